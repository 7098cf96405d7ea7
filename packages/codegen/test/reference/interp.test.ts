// The reference interpreter against hand-written TypeScript for a few ops, so the semantics the
// kernels are checked against are themselves checked.
import assert from 'node:assert/strict';
import { getOp } from '../../src/ops/index.js';
import { erf, evaluateOp } from '../../src/reference/interp.js';

const rand = (n: number, seed: number) => {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
};
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${i}: ${a[i]} vs ${b[i]}`);
};

describe('reference interpreter', () => {
  it('softmax', () => {
    const [M, N] = [3, 7];
    const x = rand(M * N, 1);
    const y = evaluateOp(getOp('softmax_forward'), { x: { shape: [M, N], data: x } }).out!.data;
    const ref: number[] = [];
    for (let m = 0; m < M; m++) {
      const row = x.slice(m * N, m * N + N);
      const mx = Math.max(...row);
      const e = row.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, b) => a + b, 0);
      ref.push(...e.map((v) => v / s));
    }
    close(y, ref);
  });
  it('layernorm', () => {
    const [M, N] = [2, 5];
    const x = rand(M * N, 2);
    const w = rand(N, 3);
    const b = rand(N, 4);
    const r = evaluateOp(
      getOp('layernorm_forward'),
      { x: { shape: [M, N], data: x }, weight: { shape: [N], data: w }, bias: { shape: [N], data: b } },
      { eps: 1e-6 },
    );
    for (let m = 0; m < M; m++) {
      const row = x.slice(m * N, m * N + N);
      const mean = row.reduce((a, v) => a + v, 0) / N;
      const v = row.reduce((a, q) => a + (q - mean) ** 2, 0) / N;
      close([r.mean!.data[m]!], [mean]);
      close([r.rstd!.data[m]!], [1 / Math.sqrt(v + 1e-6)]);
      close(
        r.out!.data.slice(m * N, m * N + N),
        row.map((q, j) => ((q - mean) / Math.sqrt(v + 1e-6)) * w[j]! + b[j]!),
      );
    }
  });
  it('matmul_tn with a batch', () => {
    const [B, M, N, K] = [2, 3, 4, 5];
    const a = rand(B * K * M, 5);
    const b = rand(B * K * N, 6);
    const y = evaluateOp(
      getOp('matmul_tn'),
      {
        a: { shape: [B, K, M], data: a },
        b: { shape: [B, K, N], data: b },
      },
      { alpha: 0.5 },
    ).out!.data;
    const ref: number[] = [];
    for (let t = 0; t < B; t++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[(t * K + k) * M + m]! * b[(t * K + k) * N + n]!;
          ref.push(0.5 * s);
        }
    close(y, ref);
  });
  it('erf matches known values', () => {
    close(
      [erf(0.5), erf(-1), erf(2.5), erf(1e-10)],
      [0.5204998778130465, -0.8427007929497149, 0.999593047982555, 1.1283791670955126e-10],
      1e-15,
    );
  });
});
