// checkpoint.ts: training checkpoints as safetensors files. Model tensors keep the official
// PyTorch state_dict names (so `safetensors.torch.load_file` + `load_state_dict` works), optimizer
// state is stored under `optimizer.<name>`, and `__metadata__` carries the format tag, version,
// step, epoch, config (JSON) and any extra strings. Also: matching a loaded state dict against the
// expected names and shapes, with a report that names every problem.
import { readSafetensors, type StTensor, writeSafetensorsAtomic } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'mae-cuda-checkpoint';
export const CHECKPOINT_VERSION = '1';
export const OPTIMIZER_PREFIX = 'optimizer.';
const RESERVED_KEYS = ['format', 'version', 'step', 'epoch', 'config'] as const;

export interface Checkpoint {
  /** Model parameters and buffers under their state_dict names. */
  model: Record<string, StTensor>;
  /** Optimizer state, e.g. `exp_avg.blocks.0.attn.qkv.weight`; stored as `optimizer.<name>`. */
  optimizer?: Record<string, StTensor>;
  step: number;
  epoch: number;
  /** Anything JSON can represent; stored as a JSON string. */
  config: unknown;
  /** Extra metadata strings (keys must not be one of the reserved ones). */
  extra?: Record<string, string>;
}

/** What `loadCheckpoint` returns: like `Checkpoint`, with `optimizer` and `extra` always present. */
export interface LoadedCheckpoint extends Checkpoint {
  optimizer: Record<string, StTensor>;
  extra: Record<string, string>;
}

function checkCount(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what} must be a non-negative integer, got ${v}`);
}

/** Write a checkpoint atomically to `path` (the old file stays intact if anything fails). */
export async function saveCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  const fail = (msg: string): never => {
    throw new Error(`cannot save checkpoint ${path}: ${msg}`);
  };
  try {
    checkCount('step', ckpt.step);
    checkCount('epoch', ckpt.epoch);
  } catch (e) {
    fail((e as Error).message);
  }
  let config: string | undefined;
  try {
    config = JSON.stringify(ckpt.config);
  } catch (e) {
    fail(`config is not JSON-serializable: ${(e as Error).message}`);
  }
  if (config === undefined) fail('config is not JSON-serializable (undefined, a function or a symbol)');

  const tensors = new Map<string, StTensor>();
  for (const [name, t] of Object.entries(ckpt.model)) {
    if (name.startsWith(OPTIMIZER_PREFIX)) {
      fail(`model tensor "${name}" clashes with the "${OPTIMIZER_PREFIX}" prefix of optimizer state`);
    }
    tensors.set(name, t);
  }
  for (const [name, t] of Object.entries(ckpt.optimizer ?? {})) tensors.set(OPTIMIZER_PREFIX + name, t);

  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(ckpt.extra ?? {})) {
    if ((RESERVED_KEYS as readonly string[]).includes(k)) fail(`extra key "${k}" is reserved`);
    if (typeof v !== 'string') fail(`extra "${k}" must be a string, got ${typeof v}`);
    metadata[k] = v;
  }
  Object.assign(metadata, {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: String(ckpt.step),
    epoch: String(ckpt.epoch),
    config: config!,
  });
  await writeSafetensorsAtomic(path, tensors, metadata);
}

/** Read a checkpoint written by `saveCheckpoint`, with clear errors for anything else. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const fail = (msg: string): never => {
    throw new Error(`checkpoint ${path}: ${msg}`);
  };
  const { tensors, metadata } = await readSafetensors(path);
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

  const model: [string, StTensor][] = [];
  const optimizer: [string, StTensor][] = [];
  for (const [name, t] of tensors) {
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizer.push([name.slice(OPTIMIZER_PREFIX.length), t]);
    else model.push([name, t]);
  }
  const extra = Object.entries(metadata).filter(([k]) => !(RESERVED_KEYS as readonly string[]).includes(k));
  return {
    model: Object.fromEntries(model),
    optimizer: Object.fromEntries(optimizer),
    step,
    epoch,
    config,
    extra: Object.fromEntries(extra),
  };
}

// ---- state dict matching ---------------------------------------------------------------------

export interface StateDictReport {
  /** Expected names that are not in the loaded tensors. */
  missing: string[];
  /** Loaded names that are not expected. */
  unexpected: string[];
  /** Names present in both with different shapes. */
  misshaped: { name: string; expected: number[]; got: number[] }[];
}

/** Compare loaded tensors against the expected names and shapes (all lists sorted by name). */
export function matchStateDict(
  expected: Record<string, { shape: readonly number[] }>,
  got: Map<string, StTensor> | Record<string, StTensor>,
): StateDictReport {
  const have = got instanceof Map ? got : new Map(Object.entries(got));
  const report: StateDictReport = { missing: [], unexpected: [], misshaped: [] };
  for (const name of Object.keys(expected).sort()) {
    const t = have.get(name);
    const want = expected[name]!.shape;
    if (!t) report.missing.push(name);
    else if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      report.misshaped.push({ name, expected: [...want], got: [...t.shape] });
    }
  }
  for (const name of [...have.keys()].sort())
    if (!Object.hasOwn(expected, name)) report.unexpected.push(name);
  return report;
}

/** True when nothing is missing, unexpected or misshaped. */
export function stateDictMatches(report: StateDictReport): boolean {
  return report.missing.length + report.unexpected.length + report.misshaped.length === 0;
}

/** A readable report naming every missing, unexpected and misshaped tensor. */
export function formatStateDictReport(report: StateDictReport, source = 'state dict'): string {
  if (stateDictMatches(report)) return `${source}: all tensors match`;
  const lines = [
    `${source}: ${report.missing.length} missing, ${report.unexpected.length} unexpected, ` +
      `${report.misshaped.length} misshaped`,
  ];
  for (const n of report.missing) lines.push(`  missing: ${n}`);
  for (const n of report.unexpected) lines.push(`  unexpected: ${n}`);
  for (const m of report.misshaped) {
    lines.push(`  misshaped: ${m.name}: expected [${m.expected.join(', ')}], got [${m.got.join(', ')}]`);
  }
  return lines.join('\n');
}

/** Throw an error with the formatted report unless the tensors match the expected state dict. */
export function assertStateDictMatches(
  expected: Record<string, { shape: readonly number[] }>,
  got: Map<string, StTensor> | Record<string, StTensor>,
  source = 'state dict',
): void {
  const report = matchStateDict(expected, got);
  if (!stateDictMatches(report)) throw new Error(formatStateDictReport(report, source));
}
