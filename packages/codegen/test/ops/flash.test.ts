// The semantics of attention_forward and attention_backward (ops/flash.ts) against the composition
// of the ops the model used before them (qkv_split, matmul_nt with the scale, softmax, matmul_nn,
// swap12 and their backwards), all evaluated by the reference interpreter in f64.
import assert from 'node:assert/strict';
import { getOp } from '../../src/ops/index.js';
import { evaluateOp, type RefTensor } from '../../src/reference/interp.js';

const rand = (n: number, seed: number, amp = 1) => {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return amp * (2 * (s / 2 ** 32) - 1);
  });
};
const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-12 * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const run = (op: string, ins: Record<string, RefTensor>, params: Record<string, number> = {}) =>
  evaluateOp(getOp(op), ins, params);
const t = (shape: number[], data: ArrayLike<number>): RefTensor => ({ shape, data });

/** The old model path: split heads, scores, softmax, weighted sum, merge heads. */
function composedForward(qkv: Float64Array, N: number, T: number, H: number, E: number, scale: number) {
  const split = run('qkv_split_forward', { qkv: t([N, T, 3, H, E], qkv) });
  const bt = [N * H, T, E];
  const q = t(bt, split.q!.data);
  const k = t(bt, split.k!.data);
  const v = t(bt, split.v!.data);
  const scores = run('matmul_nt', { a: q, b: k }, { alpha: scale }).out!;
  const probs = run('softmax_forward', { x: t([N * H * T, T], scores.data) }).out!;
  const o = run('matmul_nn', { a: t([N * H, T, T], probs.data), b: v }, { alpha: 1 }).out!;
  const merged = run('swap12_forward', { x: t([N, H, T, E], o.data) }).out!;
  return { out: merged.data, q, k, v, probs: t([N * H, T, T], probs.data), scores: scores.data };
}

function composedBackward(
  dmerged: Float64Array,
  f: ReturnType<typeof composedForward>,
  N: number,
  T: number,
  H: number,
  E: number,
  scale: number,
) {
  const bt = [N * H, T, E];
  const dout = t(bt, run('swap12_forward', { x: t([N, T, H, E], dmerged) }).out!.data);
  const dprobs = run('matmul_nt', { a: dout, b: f.v }, { alpha: 1 }).out!;
  const dv = run('matmul_tn', { a: f.probs, b: dout }, { alpha: 1 }).out!;
  const dscores = run('softmax_backward', {
    y: t([N * H * T, T], f.probs.data),
    dy: t([N * H * T, T], dprobs.data),
  }).dx!;
  const ds = t([N * H, T, T], dscores.data);
  const dq = run('matmul_nn', { a: ds, b: f.k }, { alpha: scale }).out!;
  const dk = run('matmul_tn', { a: ds, b: f.q }, { alpha: scale }).out!;
  const heads = [N, H, T, E];
  return run('qkv_split_backward', {
    dq: t(heads, dq.data),
    dk: t(heads, dk.data),
    dv: t(heads, dv.data),
  }).dqkv!.data;
}

describe('flash attention semantics (reference interpreter)', () => {
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 3],
    [2, 7, 3, 5],
    [1, 13, 2, 8],
    [2, 4, 1, 16],
  ];
  for (const [N, T, H, E] of shapes) {
    const scale = E ** -0.5;
    const qkv = rand(N * T * 3 * H * E, 11 + T, 2);
    it(`attention_forward = split, scores, softmax, weighted sum, merge (N=${N} T=${T} H=${H} E=${E})`, () => {
      const f = composedForward(qkv, N, T, H, E, scale);
      const r = run('attention_forward', { qkv: t([N, T, 3, H, E], qkv) }, { scale });
      close(r.out!.data, f.out, 'out');
      // lse[n, h, t] = log sum_j exp(scores[n h, t, j])
      const lse = Float64Array.from({ length: N * H * T }, (_, i) => {
        const row = f.scores.subarray(i * T, i * T + T);
        return Math.log(row.reduce((a, s) => a + Math.exp(s), 0));
      });
      close(r.lse!.data, lse, 'lse');
    });
    it(`attention_backward = the composed backward ops (N=${N} T=${T} H=${H} E=${E})`, () => {
      const f = composedForward(qkv, N, T, H, E, scale);
      const fwd = run('attention_forward', { qkv: t([N, T, 3, H, E], qkv) }, { scale });
      const dout = rand(N * T * H * E, 5 + E);
      const want = composedBackward(dout, f, N, T, H, E, scale);
      const got = run(
        'attention_backward',
        {
          dout: t([N, T, H, E], dout),
          qkv: t([N, T, 3, H, E], qkv),
          out: t([N, T, H, E], fwd.out!.data),
          lse: t([N, H, T], fwd.lse!.data),
        },
        { scale },
      ).dqkv!.data;
      close(got, want, 'dqkv');
    });
  }
});
