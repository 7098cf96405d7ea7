// state.ts: a training run's state as a checkpoint (src/io/checkpoint.ts): the model under the
// official state_dict names, AdamW's moments under optimizer.exp_avg.<name> and
// optimizer.exp_avg_sq.<name>, and the optimiser step, epoch and run settings in the metadata;
// and the way back, checking names, shapes and dtypes so that a wrong file is refused clearly.

import { isDeepStrictEqual } from 'node:util';
import { Tensor } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import type { ModelState } from '../init/state.js';
import { stateSpec } from '../init/state_spec.js';
import { assertStateDictMatches, loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { type StTensor, stTensor } from '../io/safetensors.js';
import type { ParamStore } from '../model/params.js';
import type { AdamW } from '../optim/adamw.js';

export interface RunMetadata {
  /** the model configuration */
  model: MaeConfig;
  /** the run's settings (PretrainConfig) and anything else worth keeping */
  [key: string]: unknown;
}

/** Saves model, optimiser moments, step and epoch atomically to path. */
export async function saveTrainingState(
  path: string,
  params: ParamStore,
  optim: AdamW,
  epoch: number,
  meta: RunMetadata,
): Promise<void> {
  const model: Record<string, StTensor> = {};
  for (const [name, t] of await params.toState()) model[name] = stTensor('F32', t.shape, t.data);
  const optimizer: Record<string, StTensor> = {};
  for (const name of optim.trainable) {
    const m = optim.m.get(name)!;
    const v = optim.v.get(name)!;
    optimizer[`exp_avg.${name}`] = stTensor('F32', [...m.shape], await m.toFloat32Array());
    optimizer[`exp_avg_sq.${name}`] = stTensor('F32', [...v.shape], await v.toFloat32Array());
  }
  await saveCheckpoint(path, { model, optimizer, step: optim.step, epoch, config: meta });
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

function f32(path: string, name: string, t: StTensor | undefined, shape: readonly number[]): Float32Array {
  if (!t) throw new Error(`checkpoint ${path}: ${name} is missing`);
  if (t.dtype !== 'F32') throw new Error(`checkpoint ${path}: ${name} is ${t.dtype}, expected F32`);
  if (!isDeepStrictEqual([...t.shape], [...shape]))
    throw new Error(`checkpoint ${path}: ${name} is [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  return t.data;
}

/**
 * Reads a checkpoint for model configuration `model`; refuses one made for another model, and one
 * without the moments of every trainable parameter.
 */
export async function loadTrainingState(
  path: string,
  model: MaeConfig,
  trainable: readonly string[],
): Promise<RestoredState> {
  const ck = await loadCheckpoint(path);
  const meta = (ck.config ?? {}) as Partial<RunMetadata>;
  if (meta.model !== undefined && !isDeepStrictEqual(meta.model, model)) {
    const diff = Object.keys(model)
      .filter(
        (k) => !isDeepStrictEqual((meta.model as Record<string, unknown>)[k], model[k as keyof MaeConfig]),
      )
      .map(
        (k) =>
          `${k} ${JSON.stringify((meta.model as Record<string, unknown>)[k])} (asked: ${JSON.stringify(model[k as keyof MaeConfig])})`,
      );
    throw new Error(`checkpoint ${path} was made for another model: ${diff.join(', ')}`);
  }
  const spec = stateSpec(model);
  assertStateDictMatches(Object.fromEntries(spec.map((s) => [s.name, s])), ck.model, `checkpoint ${path}`);
  const state: ModelState = new Map(
    spec.map((s) => [s.name, { shape: [...s.shape], data: f32(path, s.name, ck.model[s.name], s.shape) }]),
  );
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const name of trainable) {
    const shape = state.get(name)!.shape;
    m.set(name, f32(path, `optimizer.exp_avg.${name}`, ck.optimizer[`exp_avg.${name}`], shape));
    v.set(name, f32(path, `optimizer.exp_avg_sq.${name}`, ck.optimizer[`exp_avg_sq.${name}`], shape));
  }
  return { state, m, v, step: ck.step, epoch: ck.epoch, meta };
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
