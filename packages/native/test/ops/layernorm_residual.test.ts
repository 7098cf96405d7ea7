// layernorm_residual.test.ts: LayerNorm's backward with the residual's gradient added in the same
// pass (layernorm_residual_backward) against the two ops it replaces, layernorm_backward then
// residual_forward, on odd shapes of fresh random values (CPU): dweight and dbias bit for bit (the
// same column sums), dx within the one rounding the fusion saves (f32: a few units in the last place
// of |dres| + |the norm's dx|; bf16: one bf16 rounding of them).
import assert from 'node:assert/strict';
import * as ops from '../../generated/ops.js';
import { Tensor } from '../../src/tensor.js';
import { rng } from './harness.js';

type Dt = 'f32' | 'bf16';
// bf16 tensors go through the f32 overload's types here (the addon dispatches on the tensors' dtype)
type T = Tensor<'f32'>;

function random(dtype: Dt, shape: number[], rand: () => number, scale: number, shift = 0): T {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromArray(
    dtype,
    shape,
    Float32Array.from({ length: n }, () => shift + scale * (2 * rand() - 1)),
  ) as T;
}

async function both(dtype: Dt, M: number, N: number, seed: number) {
  const rand = rng(seed);
  const [x, w, b, dout, dres] = [
    random(dtype, [M, N], rand, 2, 0.5),
    random(dtype, [N], rand, 1),
    random(dtype, [N], rand, 1),
    random(dtype, [M, N], rand, 1),
    random(dtype, [M, N], rand, 1),
  ];
  const [y, mean, rstd] = [
    Tensor.empty(dtype, [M, N]) as T,
    Tensor.empty('f32', [M]) as T,
    Tensor.empty('f32', [M]) as T,
  ];
  ops.layernorm_forward(y, mean, rstd, x, w, b, 1e-5);
  const grads = () =>
    [Tensor.empty(dtype, [M, N]) as T, Tensor.empty(dtype, [N]) as T, Tensor.empty(dtype, [N]) as T] as const;
  const [dx, dw, db] = grads();
  ops.layernorm_residual_backward(dx, dw, db, dout, dres, x, w, mean, rstd);
  const [dn, dw2, db2] = grads();
  ops.layernorm_backward(dn, dw2, db2, dout, x, w, mean, rstd);
  const sum = Tensor.empty(dtype, [M * N]) as T;
  ops.residual_forward(sum, dres.view([M * N]), dn.view([M * N]));
  // values as f32 (a bf16 tensor's raw array would be its bit patterns)
  const a = (t: T) => t.toFloat32Array();
  return {
    fused: await Promise.all([a(dx), a(dw), a(db)]),
    unfused: await Promise.all([a(sum), a(dw2), a(db2)]),
    dres: await a(dres),
    dn: await a(dn),
  };
}

describe('layernorm_residual_backward against layernorm_backward then residual_forward (CPU)', () => {
  const seed = Number(process.env.MAE_TEST_SEED ?? Date.now() % 100000);
  for (const [M, N] of [
    [1, 1],
    [3, 7],
    [50, 33],
    [197, 96],
  ] as const) {
    for (const [dtype, ulp] of [
      ['f32', 2 ** -23],
      ['bf16', 2 ** -7],
    ] as const) {
      it(`${dtype} ${M}x${N}: dweight and dbias bit for bit, dx within one rounding (seed ${seed})`, async () => {
        const r = await both(dtype, M, N, seed + M + N);
        assert.deepEqual(r.fused[1], r.unfused[1], 'dweight');
        assert.deepEqual(r.fused[2], r.unfused[2], 'dbias');
        const [a, b] = [r.fused[0]!, r.unfused[0]!];
        for (let i = 0; i < a.length; i++) {
          const tol = 2 * ulp * (Math.abs(r.dres[i]!) + Math.abs(r.dn[i]!) + 2 ** -100);
          assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `dx element ${i}: ${a[i]} against ${b[i]}`);
        }
      });
    }
  }
  it('refuses a dres of another shape, naming it', () => {
    const t = (s: number[]) => Tensor.empty('f32', s) as T;
    assert.throws(
      () =>
        ops.layernorm_residual_backward(
          t([2, 3]),
          t([3]),
          t([3]),
          t([2, 3]),
          t([2, 4]),
          t([2, 3]),
          t([3]),
          t([2]),
          t([2]),
        ),
      /layernorm_residual_backward: .*dres/,
    );
  });
});
