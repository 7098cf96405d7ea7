// state.ts: a training run's state as a checkpoint (src/io/checkpoint.ts): the model under the
// official state_dict names, AdamW's moments under optimizer.exp_avg.<name> and
// optimizer.exp_avg_sq.<name>, and the optimiser step, epoch and run settings in the metadata;
// and the way back, checking names, shapes and dtypes so that a wrong file is refused clearly.
// Both ways stream, one tensor at a time (each downloaded from its device tensor only when it is
// written), and both refuse NaN and ±Inf: a diverged state is neither saved nor resumed from.
// saveDeviceState / readDeviceState do the same for any named device tensors (the fine-tuned
// classifier, the linear probe's head and LARS buffers).

import { isDeepStrictEqual } from 'node:util';
import { Tensor } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import type { ModelState } from '../init/state.js';
import { stateSpec } from '../init/state_spec.js';
import {
  assertStateDictMatches,
  type OpenCheckpoint,
  openCheckpoint,
  saveCheckpoint,
} from '../io/checkpoint.js';
import { describeNonFinite, NonFiniteTensorError, nonFiniteStats } from '../io/finite.js';
import type { StSourceOf } from '../io/safetensors.js';
import type { F32, ParamStore } from '../model/params.js';

export { NonFiniteTensorError } from '../io/finite.js';

export interface RunMetadata {
  /** the model configuration */
  model: MaeConfig;
  /** the run's settings (PretrainConfig) and anything else worth keeping */
  [key: string]: unknown;
}

export interface SaveStateOptions {
  /** extra metadata strings stored with the checkpoint (not the reserved format/version/step/epoch/config) */
  extra?: Record<string, string>;
}

/** A tensor downloaded (as f32) only when the writer reaches it. */
function deviceSource(t: F32): StSourceOf<'F32'> {
  return { dtype: 'F32', shape: [...t.shape], read: () => t.toFloat32Array() };
}

/** An optimiser with Adam's moments per trained parameter (AdamW, LayerDecayAdamW). */
export interface MomentOptimizer {
  readonly trainable: readonly string[];
  readonly m: ReadonlyMap<string, F32>;
  readonly v: ReadonlyMap<string, F32>;
  step: number;
}

/** A state to save: device tensors by name (model and optimiser), the counters and metadata. */
export interface DeviceState {
  model: Iterable<readonly [string, F32]>;
  optimizer: Iterable<readonly [string, F32]>;
  step: number;
  epoch: number;
  config: unknown;
  extra?: Record<string, string> | undefined;
}

/**
 * Saves device tensors atomically to path, streaming (each downloaded when the writer reaches it).
 * If any value is NaN or ±Inf nothing is written (the previous file at path stays as it was) and a
 * NonFiniteTensorError names the tensor.
 */
export async function saveDeviceState(path: string, s: DeviceState): Promise<void> {
  const sources = (ts: Iterable<readonly [string, F32]>) =>
    Object.fromEntries([...ts].map(([name, t]) => [name, deviceSource(t)]));
  const ckpt = {
    model: sources(s.model),
    optimizer: sources(s.optimizer),
    step: s.step,
    epoch: s.epoch,
    config: s.config,
    extra: s.extra,
  };
  await saveCheckpoint(path, ckpt, { requireFinite: true });
}

/** Adam's moments under exp_avg.<name> and exp_avg_sq.<name>. */
export function momentTensors(optim: MomentOptimizer): [string, F32][] {
  return optim.trainable.flatMap((name): [string, F32][] => [
    [`exp_avg.${name}`, optim.m.get(name)!],
    [`exp_avg_sq.${name}`, optim.v.get(name)!],
  ]);
}

/**
 * Saves model, optimiser moments, step and epoch atomically to path, streaming. If any value is
 * NaN or ±Inf nothing is written (the previous file at path stays as it was) and a
 * NonFiniteTensorError names the tensor.
 */
export async function saveTrainingState(
  path: string,
  params: ParamStore,
  optim: MomentOptimizer,
  epoch: number,
  meta: RunMetadata,
  opts: SaveStateOptions = {},
): Promise<void> {
  await saveDeviceState(path, {
    model: params.values,
    optimizer: momentTensors(optim),
    step: optim.step,
    epoch,
    config: meta,
    extra: opts.extra,
  });
}

export interface RestoredState {
  state: ModelState;
  /** exp_avg and exp_avg_sq by parameter name */
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  step: number;
  epoch: number;
  meta: Partial<RunMetadata>;
}

/** Reads one F32 tensor of the expected shape, refusing a missing, mistyped or non-finite one. */
async function readF32(ck: OpenCheckpoint, name: string, shape: readonly number[]): Promise<Float32Array> {
  const fail = (msg: string): never => {
    throw new Error(`checkpoint ${ck.path}: ${name} ${msg}`);
  };
  const info = ck.reader.info(name);
  if (!info) fail('is missing');
  if (info!.dtype !== 'F32') fail(`is ${info!.dtype}, expected F32`);
  if (!isDeepStrictEqual(info!.shape, [...shape]))
    fail(`is [${info!.shape.join(', ')}], expected [${shape.join(', ')}]`);
  const data = (await ck.reader.read(name)).data as Float32Array;
  const bad = nonFiniteStats(data);
  if (bad) {
    const msg = `checkpoint ${ck.path}: ${describeNonFinite(name, bad)}; refusing to resume from it`;
    throw new NonFiniteTensorError(msg, { tensor: name, path: ck.path, ...bad });
  }
  return data;
}

/** A configuration value as JSON; an optional field left out is 'absent'. */
const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));

/** Refuses a checkpoint whose recorded model configuration differs from `model`, naming the fields. */
export function checkArchitecture(path: string, meta: Partial<RunMetadata>, model: MaeConfig): void {
  if (meta.model === undefined || isDeepStrictEqual(meta.model, model)) return;
  const saved = meta.model as unknown as Record<string, unknown>;
  const diff = [...new Set([...Object.keys(model), ...Object.keys(saved)])]
    .filter((k) => !isDeepStrictEqual(saved[k], model[k as keyof MaeConfig]))
    .map((k) => `${k} ${show(saved[k])} (asked: ${show(model[k as keyof MaeConfig])})`);
  throw new Error(`checkpoint ${path} was made for another model: ${diff.join(', ')}`);
}

/** What a checkpoint holds, read back by readDeviceState. */
export interface ReadState {
  state: ModelState;
  /** optimiser tensors by name (without the optimizer. prefix) */
  optimizer: Map<string, Float32Array>;
  step: number;
  epoch: number;
  meta: Partial<RunMetadata>;
  extra: Record<string, string>;
}

type Spec = readonly { name: string; shape: readonly number[] }[];

/**
 * Reads the model tensors of `spec` and the optimiser tensors of `optimizer` from a checkpoint of
 * ours, one at a time, after `check` has accepted its metadata; names and shapes are checked from
 * the header before any data is read, and a NaN or ±Inf is refused (a NonFiniteTensorError).
 */
export async function readDeviceState(
  path: string,
  spec: Spec,
  optimizer: Spec,
  check: (meta: Partial<RunMetadata>) => void = () => {},
): Promise<ReadState> {
  const ck = await openCheckpoint(path);
  try {
    const meta = (ck.config ?? {}) as Partial<RunMetadata>;
    check(meta);
    assertStateDictMatches(Object.fromEntries(spec.map((s) => [s.name, s])), ck.model, `checkpoint ${path}`);
    const state: ModelState = new Map();
    for (const s of spec)
      state.set(s.name, { shape: [...s.shape], data: await readF32(ck, s.name, s.shape) });
    const opt = new Map<string, Float32Array>();
    for (const s of optimizer) opt.set(s.name, await readF32(ck, `optimizer.${s.name}`, s.shape));
    return { state, optimizer: opt, step: ck.step, epoch: ck.epoch, meta, extra: ck.extra };
  } finally {
    await ck.close();
  }
}

/** The names and shapes of Adam's moments of the trainable parameters of spec. */
export function momentSpec(spec: Spec, trainable: readonly string[]): Spec {
  const shapes = new Map(spec.map((s) => [s.name, s.shape]));
  return trainable.flatMap((name) => [
    { name: `exp_avg.${name}`, shape: shapes.get(name)! },
    { name: `exp_avg_sq.${name}`, shape: shapes.get(name)! },
  ]);
}

/** A read state's moments as the m and v maps of a RestoredState. */
export function restoredMoments(r: ReadState, trainable: readonly string[]): RestoredState {
  const m = new Map(trainable.map((n) => [n, r.optimizer.get(`exp_avg.${n}`)!]));
  const v = new Map(trainable.map((n) => [n, r.optimizer.get(`exp_avg_sq.${n}`)!]));
  return { state: r.state, m, v, step: r.step, epoch: r.epoch, meta: r.meta };
}

/**
 * Reads a checkpoint for model configuration `model`, one tensor at a time; refuses one made for
 * another model, one without the moments of every trainable parameter, and one with any NaN or
 * ±Inf (a NonFiniteTensorError naming the tensor). Names and shapes are checked from the header
 * before any data is read.
 */
export async function loadTrainingState(
  path: string,
  model: MaeConfig,
  trainable: readonly string[],
): Promise<RestoredState> {
  const spec = stateSpec(model);
  const r = await readDeviceState(path, spec, momentSpec(spec, trainable), (meta) =>
    checkArchitecture(path, meta, model),
  );
  return restoredMoments(r, trainable);
}

/** Puts restored moments and step into an optimiser made over the restored parameters. */
export function restoreOptimizer(optim: MomentOptimizer, r: RestoredState): void {
  for (const name of optim.trainable) {
    const m = optim.m.get(name)!;
    const v = optim.v.get(name)!;
    m.copyFrom(Tensor.fromArray('f32', m.shape, r.m.get(name)!, m.device));
    v.copyFrom(Tensor.fromArray('f32', v.shape, r.v.get(name)!, v.device));
  }
  optim.step = r.step;
}
