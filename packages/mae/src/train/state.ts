// state.ts: a training run's state as a checkpoint (src/io/checkpoint.ts): the model under the
// official state_dict names, AdamW's moments under optimizer.exp_avg.<name> and
// optimizer.exp_avg_sq.<name>, and the optimiser step, epoch and run settings in the metadata;
// and the way back, checking names, shapes and dtypes so that a wrong file is refused clearly.
// Both ways stream, one tensor at a time (each downloaded from its device tensor only when it is
// written), and both refuse NaN and ±Inf: a diverged state is neither saved nor resumed from.

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
import type { AdamW } from '../optim/adamw.js';

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

/**
 * Saves model, optimiser moments, step and epoch atomically to path, streaming. If any value is
 * NaN or ±Inf nothing is written (the previous file at path stays as it was) and a
 * NonFiniteTensorError names the tensor.
 */
export async function saveTrainingState(
  path: string,
  params: ParamStore,
  optim: AdamW,
  epoch: number,
  meta: RunMetadata,
  opts: SaveStateOptions = {},
): Promise<void> {
  const model: Record<string, StSourceOf<'F32'>> = {};
  for (const [name, t] of params.values) model[name] = deviceSource(t);
  const optimizer: Record<string, StSourceOf<'F32'>> = {};
  for (const name of optim.trainable) {
    optimizer[`exp_avg.${name}`] = deviceSource(optim.m.get(name)!);
    optimizer[`exp_avg_sq.${name}`] = deviceSource(optim.v.get(name)!);
  }
  const ckpt = { model, optimizer, step: optim.step, epoch, config: meta, extra: opts.extra };
  await saveCheckpoint(path, ckpt, { requireFinite: true });
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
  const ck = await openCheckpoint(path);
  try {
    const meta = (ck.config ?? {}) as Partial<RunMetadata>;
    checkArchitecture(path, meta, model);
    const spec = stateSpec(model);
    assertStateDictMatches(Object.fromEntries(spec.map((s) => [s.name, s])), ck.model, `checkpoint ${path}`);
    const state: ModelState = new Map();
    for (const s of spec)
      state.set(s.name, { shape: [...s.shape], data: await readF32(ck, s.name, s.shape) });
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const name of trainable) {
      const shape = state.get(name)!.shape;
      m.set(name, await readF32(ck, `optimizer.exp_avg.${name}`, shape));
      v.set(name, await readF32(ck, `optimizer.exp_avg_sq.${name}`, shape));
    }
    return { state, m, v, step: ck.step, epoch: ck.epoch, meta };
  } finally {
    await ck.close();
  }
}

/** Puts restored moments and step into an optimiser made over the restored parameters. */
export function restoreOptimizer(optim: AdamW, r: RestoredState): void {
  for (const name of optim.trainable) {
    const m = optim.m.get(name)!;
    const v = optim.v.get(name)!;
    m.copyFrom(Tensor.fromArray('f32', m.shape, r.m.get(name)!, m.device));
    v.copyFrom(Tensor.fromArray('f32', v.shape, r.v.get(name)!, v.device));
  }
  optim.step = r.step;
}
