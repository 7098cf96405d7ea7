// finite_diff.ts: what the finite-difference gradient checks share (gradcheck*.test.ts): f64 tensors
// of seeded uniform values, a dot product, central differences of a scalar loss with respect to
// every element of an input, and the comparison of a backward's result with them.
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor.js';
import { rng } from './harness.js';

export type T64 = Tensor<'f64'>;

/** f64 tensors of uniform values in [lo, hi) from a generator seeded by MAE_TEST_SEED or `seed`. */
export function f64Maker(seed: number) {
  const rand = rng(Number(process.env.MAE_TEST_SEED ?? seed));
  return (shape: number[], lo = -1, hi = 1): T64 =>
    Tensor.fromArray(
      'f64',
      shape,
      Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * rand()),
    );
}

export const empty = (shape: readonly number[]): T64 => Tensor.empty('f64', shape);

export const dot = (a: T64, b: T64) => {
  const y = b.toArraySync();
  return a.toArraySync().reduce((s, v, i) => s + v * y[i]!, 0);
};

/** Central differences of loss() w.r.t. every element of `input`. */
export function numericGrad(input: T64, loss: () => number, h = 1e-6): Float64Array {
  const x = input.toArraySync();
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + h;
    input.handle.copyFromHost(x);
    const lp = loss();
    x[i] = v - h;
    input.handle.copyFromHost(x);
    const lm = loss();
    x[i] = v;
    input.handle.copyFromHost(x);
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

export function assertGrad(name: string, got: T64, want: Float64Array) {
  const a = got.toArraySync();
  assert.equal(a.length, want.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(
      Math.abs(a[i]! - want[i]!) <= 1e-7 + 1e-6 * Math.abs(want[i]!),
      `${name}[${i}]: ${a[i]} vs numeric ${want[i]}`,
    );
}
