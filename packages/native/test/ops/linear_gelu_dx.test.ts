// linear_gelu_dx.test.ts: the GELU's backward fused into a linear layer's dx GEMM
// (linear_gelu_dx_backward) against the two ops it replaces, matmul_nn then gelu_backward, on odd
// shapes of fresh random values (CPU): in f32 within a few units in the last place of the product
// (dy W) (the same GEMM; the epilogue evaluates gelu' on another code path than gelu_backward's loop,
// and gelu' cancels where pre < -2), in bf16 within the one rounding the fusion saves.
import assert from 'node:assert/strict';
import * as ops from '../../generated/ops.js';
import { Tensor } from '../../src/tensor.js';
import { rng } from './harness.js';

type Dt = 'f32' | 'bf16';
// The ops take one overload per dtype; a bf16 tensor goes through the f32 overload's types here (the
// addon dispatches on the tensors' own dtype).
type T = Tensor<'f32'>;

function random(dtype: Dt, shape: number[], rand: () => number, scale: number): T {
  const n = shape.reduce((a, b) => a * b, 1);
  const t = Tensor.fromArray(
    dtype,
    shape,
    Float32Array.from({ length: n }, () => scale * (2 * rand() - 1)),
  );
  return t as T;
}

async function both(dtype: Dt, M: number, N: number, K: number, seed: number) {
  const rand = rng(seed);
  const [dy, w, pre] = [
    random(dtype, [M, K], rand, 1),
    random(dtype, [K, N], rand, 1),
    random(dtype, [M, N], rand, 3),
  ];
  const fused = Tensor.empty(dtype, [M, N]) as T;
  ops.linear_gelu_dx_backward(fused, dy, w, pre);
  const [dact, unfused] = [Tensor.empty(dtype, [1, M, N]) as T, Tensor.empty(dtype, [M * N]) as T];
  ops.matmul_nn(dact, dy.view([1, M, K]), w.view([1, K, N]), 1);
  ops.gelu_backward(unfused, pre.view([M * N]), dact.view([M * N]));
  // values as f32 (a bf16 tensor's raw array would be its bit patterns)
  return Promise.all([fused.toFloat32Array(), unfused.toFloat32Array(), dact.toFloat32Array()]);
}

describe('linear_gelu_dx_backward against matmul_nn then gelu_backward (CPU)', () => {
  const seed = Number(process.env.MAE_TEST_SEED ?? Date.now() % 100000);
  for (const [M, N, K] of [
    [1, 1, 1],
    [7, 33, 19],
    [197, 65, 48],
    [130, 256, 96],
  ] as const) {
    it(`f32 ${M}x${N}x${K}: within 8 units in the last place of dy W (seed ${seed})`, async () => {
      const [a, b, p] = await both('f32', M, N, K, seed);
      for (let i = 0; i < a.length; i++) {
        const tol = 8 * 2 ** -23 * Math.max(Math.abs(p[i]!), 2 ** -20);
        assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `element ${i}: ${a[i]} against ${b[i]}`);
      }
    });
    it(`bf16 ${M}x${N}x${K}: within one bf16 rounding of the product (seed ${seed})`, async () => {
      const [a, b] = await both('bf16', M, N, K, seed + 1);
      for (let i = 0; i < a.length; i++) {
        const tol = 2 ** -7 * (Math.abs(b[i]!) + 2 ** -126) * 2;
        assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `element ${i}: ${a[i]} against ${b[i]}`);
      }
    });
  }
});
