// load.ts: which kind of checkpoint a path is (ours: a safetensors file; an official MAE .pth:
// a torch.save zip; a Hugging Face folder), and the foreign ones read into a LoadedCheckpoint with
// the official names, optimiser state empty, step and epoch 0 and `config.model` the configuration
// (from config.json, or inferred from the shapes), `config.source` where it came from.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { LoadedCheckpoint } from '../io/checkpoint.js';
import { readHfFolder } from './hf.js';
import { inferMaeConfig } from './infer.js';
import { readPth } from './pth.js';
import { checkImported } from './shape_check.js';

export type CheckpointFormat = 'mae-cuda' | 'pth' | 'hf';
export const CHECKPOINT_FORMATS: readonly CheckpointFormat[] = ['mae-cuda', 'pth', 'hf'];

/** A zip's first local header ('PK\x03\x04'). */
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/**
 * A legacy torch.save file: pickle PROTO 2, then LONG1 of 10 bytes (its magic number). As the
 * length of a safetensors header these bytes would be over 170 MB, which no safetensors file has.
 */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a];

/** The first bytes of a file. */
function head(path: string, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  const fd = openSync(path, 'r');
  try {
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The kind of checkpoint at `path`; throws naming the path when it is none. */
export function checkpointFormat(path: string): CheckpointFormat {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  if (statSync(path).isDirectory()) return 'hf';
  const b = [...head(path, 4)];
  if (b.join() === ZIP_MAGIC.join()) return 'pth';
  if (b.join() === LEGACY_MAGIC.join())
    throw new Error(
      `checkpoint ${path} is a legacy torch.save file (before PyTorch 1.6, not a zip): load it in PyTorch and save it again`,
    );
  return 'mae-cuda';
}

/** An official .pth read as a checkpoint: the configuration inferred from its shapes. */
async function importPth(path: string): Promise<LoadedCheckpoint> {
  const model = await readPth(path);
  let inferred: ReturnType<typeof inferMaeConfig>;
  try {
    inferred = inferMaeConfig(model);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
  }
  const { model: mc, encoderOnly } = inferred;
  checkImported(model, mc, encoderOnly, path);
  return {
    model: Object.fromEntries(model),
    optimizer: {},
    step: 0,
    epoch: 0,
    config: { model: mc, source: { format: 'pth', path, encoder_only: encoderOnly } },
    extra: {},
  };
}

/** Reads an official .pth or a Hugging Face folder (`format` as checkpointFormat tells). */
export function importCheckpoint(
  path: string,
  format: Exclude<CheckpointFormat, 'mae-cuda'>,
): Promise<LoadedCheckpoint> {
  return format === 'pth' ? importPth(path) : readHfFolder(path);
}
