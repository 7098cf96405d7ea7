// checkpoint.ts: training checkpoints as safetensors files. Model tensors keep the official
// PyTorch state_dict names (so `safetensors.torch.load_file` + `load_state_dict` works), optimizer
// state is stored under `optimizer.<name>`, and `__metadata__` carries the format tag, version,
// step, epoch, config (JSON) and any extra strings. Saving streams (a tensor may be a lazy source,
// fetched only when written) and can refuse non-finite values; opening reads only the header, so
// a checkpoint can be looked at (readCheckpointInfo) or loaded one tensor at a time.
import { existsSync } from 'node:fs';
import { type CheckpointFormat, checkpointFormat, importCheckpoint } from '../convert/load.js';
import { describeNonFinite, NonFiniteTensorError, nonFiniteCause, nonFiniteOf } from './finite.js';
import { openSafetensors, type SafetensorsReader, type StTensorInfo } from './st_reader.js';
import { checkData, checkTensor, isSource, type StEntry, type StSource, type StTensor } from './st_types.js';
import { writeSafetensorsAtomic } from './st_writer.js';

export * from './state_dict.js';

export const CHECKPOINT_FORMAT = 'mae-cuda-checkpoint';
export const CHECKPOINT_VERSION = '1';
export const OPTIMIZER_PREFIX = 'optimizer.';
const RESERVED_KEYS = ['format', 'version', 'step', 'epoch', 'config'] as const;

/** A checkpoint to save (T = StEntry: tensors may be lazy sources) or a loaded one. */
export interface Checkpoint<T extends StEntry = StTensor> {
  /** Model parameters and buffers under their state_dict names. */
  model: Record<string, T>;
  /** Optimizer state, e.g. `exp_avg.blocks.0.attn.qkv.weight`; stored as `optimizer.<name>`. */
  optimizer?: Record<string, T>;
  step: number;
  epoch: number;
  /** Anything JSON can represent; stored as a JSON string. */
  config: unknown;
  /** Extra metadata strings (keys must not be one of the reserved ones). */
  extra?: Record<string, string>;
}

/** What `loadCheckpoint` returns: like `Checkpoint`, with the data read and every part present. */
export interface LoadedCheckpoint extends Checkpoint {
  optimizer: Record<string, StTensor>;
  extra: Record<string, string>;
}

/** A checkpoint's metadata: what readCheckpointInfo gives from the header alone. */
export interface CheckpointInfo {
  step: number;
  epoch: number;
  config: unknown;
  extra: Record<string, string>;
}

/** An open checkpoint: metadata and tensor infos from the header; data read on demand. */
export interface OpenCheckpoint extends CheckpointInfo {
  path: string;
  /** reads tensors by their names in the file (`optimizer.` prefix included) */
  reader: SafetensorsReader;
  /** model tensors by state_dict name */
  model: Map<string, StTensorInfo>;
  /** optimizer tensors by name without the `optimizer.` prefix */
  optimizer: Map<string, StTensorInfo>;
  close(): Promise<void>;
}

export interface SaveCheckpointOptions {
  /**
   * Refuse NaN and ±Inf in F32/F64 tensors: the write is abandoned (old file untouched) with a
   * NonFiniteTensorError naming the first such tensor.
   */
  requireFinite?: boolean;
}

function checkCount(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what} must be a non-negative integer, got ${v}`);
}

/** The metadata strings of a checkpoint; throws a plain message on anything wrong. */
function metadataOf(ckpt: Checkpoint<StEntry>): Record<string, string> {
  checkCount('step', ckpt.step);
  checkCount('epoch', ckpt.epoch);
  let config: string | undefined;
  try {
    config = JSON.stringify(ckpt.config);
  } catch (e) {
    throw new Error(`config is not JSON-serializable: ${(e as Error).message}`);
  }
  if (config === undefined)
    throw new Error('config is not JSON-serializable (undefined, a function or a symbol)');
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(ckpt.extra ?? {})) {
    if ((RESERVED_KEYS as readonly string[]).includes(k)) throw new Error(`extra key "${k}" is reserved`);
    if (typeof v !== 'string') throw new Error(`extra "${k}" must be a string, got ${typeof v}`);
    metadata[k] = v;
  }
  const { step, epoch } = ckpt;
  return {
    ...metadata,
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: `${step}`,
    epoch: `${epoch}`,
    config,
  };
}

/** The entry, or a source that checks its values are finite when the writer reads it. */
function finiteChecked(path: string, name: string, e: StEntry): StEntry {
  if (e === null || typeof e !== 'object') return e; // the writer names what is wrong with it
  if (!isSource(e)) checkTensor(e, `tensor "${name}"`);
  if (e.dtype !== 'F32' && e.dtype !== 'F64') return e;
  const read = async () => {
    const data = isSource(e) ? await e.read() : e.data;
    checkData(e.dtype, e.shape, data, `tensor "${name}"`);
    const bad = nonFiniteOf(e.dtype, data);
    if (bad) {
      const msg = `checkpoint ${path} not written: ${describeNonFinite(name, bad)}`;
      throw new NonFiniteTensorError(msg, { tensor: name, path, ...bad });
    }
    return data;
  };
  return { dtype: e.dtype, shape: e.shape, read } as StSource;
}

/**
 * Writes a checkpoint atomically to `path`, streaming (the old file stays intact if anything
 * fails). With `requireFinite`, a NaN or ±Inf in any float tensor aborts it with a
 * NonFiniteTensorError.
 */
export async function saveCheckpoint(
  path: string,
  ckpt: Checkpoint<StEntry>,
  opts: SaveCheckpointOptions = {},
): Promise<void> {
  const fail = (msg: string): never => {
    throw new Error(`cannot save checkpoint ${path}: ${msg}`);
  };
  let metadata: Record<string, string> = {};
  try {
    metadata = metadataOf(ckpt);
  } catch (e) {
    fail((e as Error).message);
  }
  const tensors = new Map<string, StEntry>();
  for (const [name, t] of Object.entries(ckpt.model)) {
    if (name.startsWith(OPTIMIZER_PREFIX)) {
      fail(`model tensor "${name}" clashes with the "${OPTIMIZER_PREFIX}" prefix of optimizer state`);
    }
    tensors.set(name, t);
  }
  for (const [name, t] of Object.entries(ckpt.optimizer ?? {})) tensors.set(OPTIMIZER_PREFIX + name, t);
  if (opts.requireFinite) {
    try {
      for (const [name, t] of tensors) tensors.set(name, finiteChecked(path, name, t));
    } catch (e) {
      throw new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    await writeSafetensorsAtomic(path, tensors, metadata);
  } catch (e) {
    throw nonFiniteCause(e) ?? e;
  }
}

/** Checks the metadata of a checkpoint file; the errors name the file. */
function infoOf(path: string, metadata: Record<string, string>): CheckpointInfo {
  const fail = (msg: string): never => {
    throw new Error(`checkpoint ${path}: ${msg}`);
  };
  if (metadata.format !== CHECKPOINT_FORMAT) {
    fail(
      metadata.format === undefined
        ? `not a mae-cuda checkpoint (no "format" in __metadata__)`
        : `not a mae-cuda checkpoint (__metadata__ format is ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  if (metadata.version !== CHECKPOINT_VERSION) {
    fail(`unsupported checkpoint version ${JSON.stringify(metadata.version)} (this reader knows "1")`);
  }
  const count = (key: 'step' | 'epoch'): number => {
    const s = metadata[key];
    const v = s !== undefined && /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : Number.NaN;
    if (!Number.isSafeInteger(v)) fail(`${key} is not a non-negative integer: ${JSON.stringify(s)}`);
    return v;
  };
  const step = count('step');
  const epoch = count('epoch');
  if (metadata.config === undefined) fail('no "config" in __metadata__');
  let config: unknown;
  try {
    config = JSON.parse(metadata.config!);
  } catch (e) {
    fail(`config in __metadata__ is not valid JSON: ${(e as Error).message}`);
  }
  const extra = Object.entries(metadata).filter(([k]) => !(RESERVED_KEYS as readonly string[]).includes(k));
  return { step, epoch, config, extra: Object.fromEntries(extra) };
}

/** An official .pth or a Hugging Face folder at `path` (undefined for anything else, a missing path too). */
function foreignFormat(path: string): Exclude<CheckpointFormat, 'mae-cuda'> | undefined {
  if (!existsSync(path)) return undefined;
  const f = checkpointFormat(path);
  return f === 'mae-cuda' ? undefined : f;
}

const FORMAT_NAMES = { pth: 'an official MAE .pth file', hf: 'a Hugging Face model folder' } as const;

/**
 * Opens a checkpoint of ours: the header is read and checked, the data is read through `reader`.
 * An official .pth or a Hugging Face folder is refused, naming loadCheckpoint and `convert`.
 */
export async function openCheckpoint(path: string): Promise<OpenCheckpoint> {
  const foreign = foreignFormat(path);
  if (foreign)
    throw new Error(
      `checkpoint ${path} is ${FORMAT_NAMES[foreign]}: it holds weights without optimiser state or run settings, ` +
        'so it cannot be resumed (loadCheckpoint reads it; `mae-cuda convert` turns it into a mae-cuda checkpoint)',
    );
  const reader = await openSafetensors(path);
  try {
    const info = infoOf(path, reader.metadata);
    const model = new Map<string, StTensorInfo>();
    const optimizer = new Map<string, StTensorInfo>();
    for (const [name, t] of reader.infos()) {
      if (name.startsWith(OPTIMIZER_PREFIX)) optimizer.set(name.slice(OPTIMIZER_PREFIX.length), t);
      else model.set(name, t);
    }
    return { ...info, path, reader, model, optimizer, close: () => reader.close() };
  } catch (e) {
    await reader.close();
    throw e;
  }
}

/** A checkpoint's step, epoch, config and extra strings, from its header alone (cheap). */
export async function readCheckpointInfo(path: string): Promise<CheckpointInfo> {
  const ck = await openCheckpoint(path);
  await ck.close();
  return { step: ck.step, epoch: ck.epoch, config: ck.config, extra: ck.extra };
}

/**
 * Reads a checkpoint written by `saveCheckpoint`, tensor by tensor, with clear errors for anything
 * else; an official MAE .pth or a Hugging Face folder is imported (convert/load.ts: official names,
 * no optimiser state, `config.model` from its config.json or its shapes).
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const foreign = foreignFormat(path);
  if (foreign) return importCheckpoint(path, foreign);
  const ck = await openCheckpoint(path);
  try {
    const model: [string, StTensor][] = [];
    const optimizer: [string, StTensor][] = [];
    for (const name of ck.model.keys()) model.push([name, await ck.reader.read(name)]);
    for (const name of ck.optimizer.keys())
      optimizer.push([name, await ck.reader.read(OPTIMIZER_PREFIX + name)]);
    const [m, o] = [Object.fromEntries(model), Object.fromEntries(optimizer)];
    return { model: m, optimizer: o, step: ck.step, epoch: ck.epoch, config: ck.config, extra: ck.extra };
  } finally {
    await ck.close();
  }
}
