// resume.ts: what `linprobe` and `finetune` share to continue a run from its checkpoint-last (the
// output folder itself is decided as pretraining's: train/output_dir.ts). The checkpoint holds the
// trained tensors and the optimiser's state (train/state.ts), the epochs done, the best epoch so
// far (extra `best`, so checkpoint-best is replaced only by a better epoch) and the settings. Here:
// reading it back, refusing it when a model-shaping setting differs from the run's (naming the
// flag), the settings that differ otherwise (a warning: the run will not match an uninterrupted
// one), and log.jsonl continued up to the resumed epoch (the lines of epochs lost with a killed
// process dropped); resumed from another folder, its checkpoint-best comes along.
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { MaeConfig } from '../config/model.js';
import { readCheckpointInfo } from '../io/checkpoint.js';
import { withSafetensors, writeFileAtomic } from '../io/safetensors.js';
import { LOG_FILE, linesText, readLines } from '../train/history.js';
import { checkArchitecture, type ReadState, type RunMetadata, readDeviceState } from '../train/state.js';
import type { EpochStart, EvalEpoch } from './epochs.js';

export const BEST_FILE = 'checkpoint-best.safetensors';

/** A setting that shapes the model: where the checkpoint records it, the run's value, and how it reads. */
export interface ShapeSetting {
  /** the key of the checkpoint's config that records it */
  key: string;
  value: unknown;
  /** the value as the flags give it, e.g. `--trainable-blocks 2` */
  describe: (v: unknown) => string;
}

/** A resumed run's state: what was read and where the loop starts. */
export interface Resumed {
  path: string;
  read: ReadState;
  start: EpochStart;
}

const epochOf = (line: string): number => {
  try {
    const e = (JSON.parse(line) as { epoch?: unknown }).epoch;
    return typeof e === 'number' ? e : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY; // a line cut short by a kill
  }
};

/** out/log.jsonl: from/log.jsonl's lines of the epochs before `upTo` (a new run: upTo 0, empty). */
export async function continueLog(out: string, upTo: number, from: string): Promise<void> {
  const kept = upTo === 0 ? [] : readLines(join(from, LOG_FILE)).filter((l) => epochOf(l) < upTo);
  await writeFileAtomic(join(out, LOG_FILE), linesText(kept));
}

/**
 * A run resumed from another folder takes that folder's checkpoint-best along when it is the
 * checkpoint's best epoch (copied to a temporary file, then renamed).
 */
export async function carryBest(out: string, start: EpochStart): Promise<void> {
  const [from, to] = [join(start.logFrom, BEST_FILE), join(out, BEST_FILE)];
  if (!start.best || !existsSync(from) || (existsSync(to) && realpathSync(from) === realpathSync(to))) return;
  const epoch = await withSafetensors(from, async (r) => r.metadata.epoch);
  if (epoch !== String(start.best.epoch)) return;
  const tmp = `${to}.tmp-${process.pid}-${Date.now().toString(16)}`;
  await copyFile(from, tmp);
  await rename(tmp, to);
}

/** The best epoch as checkpoint-last records it. */
export const bestExtra = (best: EvalEpoch): Record<string, string> => ({ best: JSON.stringify(best) });

function bestOf(path: string, extra: Record<string, string>): EvalEpoch {
  let b: Partial<EvalEpoch> | undefined;
  try {
    b = JSON.parse(extra.best ?? '') as Partial<EvalEpoch>;
  } catch {
    b = undefined;
  }
  if (typeof b?.top1 !== 'number' || typeof b.epoch !== 'number')
    throw new Error(
      `--resume: ${path} is not a checkpoint-last of linprobe or finetune (it records no best epoch)`,
    );
  return b as EvalEpoch;
}

/** Refuses a checkpoint whose model-shaping settings differ from the run's, naming the flag. */
export function checkResumeShape(
  path: string,
  meta: Record<string, unknown>,
  asked: readonly ShapeSetting[],
): void {
  for (const s of asked)
    if (!isDeepStrictEqual(meta[s.key], s.value))
      throw new Error(
        `--resume: ${path} was trained with ${s.describe(meta[s.key])}; this run has ${s.describe(s.value)}: ` +
          'a setting that shapes the model cannot change on resume',
      );
}

/**
 * Reads checkpoint-last `path` for a run of model `model` (given by `modelFlag`): refused when it
 * was made for another model or another `shape`; the tensors of `spec` and `optimizer`.
 */
export async function readResume(
  path: string,
  o: {
    model: MaeConfig;
    modelFlag: string;
    shape: readonly ShapeSetting[];
    spec: readonly { name: string; shape: readonly number[] }[];
    optimizer: readonly { name: string; shape: readonly number[] }[];
  },
): Promise<Resumed> {
  const check = (meta: Partial<RunMetadata>) => {
    try {
      checkArchitecture(path, meta, o.model);
    } catch (e) {
      throw new Error(`--resume: ${(e as Error).message} (the model ${o.modelFlag} gives)`);
    }
    checkResumeShape(path, meta, o.shape);
  };
  const best = bestOf(path, (await readCheckpointInfo(path)).extra); // a checkpoint-last of ours first
  const read = await readDeviceState(path, o.spec, o.optimizer, check);
  return { path, read, start: { epoch: read.epoch, best, logFrom: dirname(path) } };
}

/** Settings of the run that differ from the checkpoint's record (other than those ignored), as flags. */
export function changedSettings(
  was: Record<string, unknown> | undefined,
  now: Record<string, unknown>,
  ignore: readonly string[],
): string[] {
  if (!was) return [];
  const keys = new Set([...Object.keys(was), ...Object.keys(now)]);
  return [...keys]
    .filter((k) => !ignore.includes(k) && !isDeepStrictEqual(was[k], now[k]))
    .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}
