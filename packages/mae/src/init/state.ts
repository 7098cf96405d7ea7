// state.ts: the initial model state, deterministic from a seed: name -> {shape, data} in the
// official state_dict order. Parameter k of stateSpec draws from its own PhiloxStream
// (seed, Streams.initBase + k), so each parameter's values depend only on (seed, k).
import type { MaeConfig } from '../config/model.js';
import { Streams } from '../rng/noise.js';
import { PhiloxStream } from '../rng/stream.js';
import { normal, uniform, xavierUniform } from './random_init.js';
import { sincos2d } from './sincos.js';
import { type InitRule, numel, stateSpec } from './state_spec.js';

export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

export type ModelState = Map<string, StateTensor>;

function initValues(rule: InitRule, count: number, rng: PhiloxStream): Float32Array {
  switch (rule.kind) {
    case 'sincos':
      return sincos2d(rule.dim, rule.grid, true);
    case 'normal':
      return normal(count, rule.std, rng);
    case 'xavier':
      return xavierUniform(rule.fanOut, rule.fanIn, rng);
    case 'uniform':
      return uniform(count, -rule.bound, rule.bound, rng);
    case 'zeros':
      return new Float32Array(count);
    case 'ones':
      return new Float32Array(count).fill(1);
  }
}

/** The initial parameters for a configuration and seed. */
export function initialState(config: MaeConfig, seed: bigint | number): ModelState {
  const state: ModelState = new Map();
  stateSpec(config).forEach((spec, k) => {
    const rng = new PhiloxStream(seed, Streams.initBase + k);
    const data = initValues(spec.init, numel(spec.shape), rng);
    if (data.length !== numel(spec.shape)) throw new Error(`init of ${spec.name} gave ${data.length} values`);
    state.set(spec.name, { shape: [...spec.shape], data });
  });
  return state;
}
