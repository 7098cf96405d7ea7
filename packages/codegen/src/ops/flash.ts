// flash.ts: fused multi-head attention (flash attention) on the model's own layouts, with no head
// split or merge copies: the forward reads the qkv linear's output [N, T, 3, H, E] and writes the
// heads merged [N, T, H, E] (the proj linear's input) and the log-sum-exp of every softmax row;
// the backward (flash-attention-2) writes dqkv in the qkv layout from dout, qkv, out and lse.
// The definitions are the semantics (the reference interpreter evaluates them); the schedules are
// the hand-written templates of native/src/cpu/cpu_flash.h (called as emit/cpu_flash.ts emits) and
// emit/cuda_flash.ts.
import { type Ex, exp, log, loop, maxOver, select, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

/** bf16 tensor cores on the CUDA path (f32 tensors are rounded to bf16 when staged). */
const TENSOR_CORE_TOLERANCE = 3e-2;

export const attention_forward = op(
  'attention_forward',
  'out[n, t, h, :] = softmax_j(scale q[n, t, h] . k[n, j, h]) v[n, j, h, :]; lse[n, h, t] = log-sum-exp of that row',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'T', 'H', 'E'], 'heads merged: the proj linear input')
  .output('lse', 'acc:$T', ['N', 'H', 'T'], 'log-sum-exp of each scaled score row, for the backward')
  .input('qkv', '$T', ['N', 'T', 3, 'H', 'E'], 'the qkv linear output')
  .param('scale', 'multiplies the scores (head_dim^-0.5)')
  .constrain({ size: 'T', min: 1 })
  .template({ cpu: 'flash_forward', cuda: 'flash_forward', cudaTolerance: TENSOR_CORE_TOLERANCE })
  .define(({ out, lse, qkv }, { N, T, H, E }, { scale }) => {
    const [n, t, h, e] = [loop('n', N), loop('t', T), loop('h', H), loop('e', E)];
    const [j, j2, c] = [loop('j', T), loop('j2', T), loop('c', E)];
    const score = (key: Ex) => sum([c], qkv.at(n, t, 0, h, c).mul(qkv.at(n, key, 1, h, c))).mul(scale);
    const mx = maxOver([j], score(j));
    const z = sum([j], exp(score(j).sub(mx)));
    return [
      assign(out, [n, t, h, e], sum([j2], exp(score(j2).sub(mx)).mul(qkv.at(n, j2, 2, h, e))).div(z)),
      assign(lse, [n, h, t], mx.add(log(z))),
    ];
  });

export const attention_backward = op(
  'attention_backward',
  'dqkv of attention_forward from dout, qkv, out, lse: P = exp(S - lse), dS = P (dout v^T - rowsum(dout out))',
)
  .typeVar('T', FLOATS)
  .output('dqkv', '$T', ['N', 'T', 3, 'H', 'E'])
  .input('dout', '$T', ['N', 'T', 'H', 'E'])
  .input('qkv', '$T', ['N', 'T', 3, 'H', 'E'])
  .input('out', '$T', ['N', 'T', 'H', 'E'])
  .input('lse', 'acc:$T', ['N', 'H', 'T'])
  .param('scale', 'the forward scale')
  .constrain({ size: 'T', min: 1 })
  .template({ cpu: 'flash_backward', cuda: 'flash_backward', cudaTolerance: TENSOR_CORE_TOLERANCE })
  .define(({ dqkv, dout, qkv, out, lse }, { N, T, H, E }, { scale }) => {
    const [n, t, s, h, e] = [loop('n', N), loop('t', T), loop('s', 3), loop('h', H), loop('e', E)];
    const [i, j, c] = [loop('i', T), loop('j', T), loop('c', E)];
    // row terms of query row `qr` against key row `kr`
    const dsum = (qr: Ex) => sum([c], dout.at(n, qr, h, c).mul(out.at(n, qr, h, c)));
    const p = (qr: Ex, kr: Ex) =>
      exp(
        sum([c], qkv.at(n, qr, 0, h, c).mul(qkv.at(n, kr, 1, h, c)))
          .mul(scale)
          .sub(lse.at(n, h, qr)),
      );
    const dp = (qr: Ex, kr: Ex) => sum([c], dout.at(n, qr, h, c).mul(qkv.at(n, kr, 2, h, c)));
    const ds = (qr: Ex, kr: Ex) => p(qr, kr).mul(dp(qr, kr).sub(dsum(qr)));
    const dq = sum([j], ds(t, j).mul(qkv.at(n, j, 1, h, e))).mul(scale);
    const dk = sum([i], ds(i, t).mul(qkv.at(n, i, 0, h, e))).mul(scale);
    const dv = sum([i], p(i, t).mul(dout.at(n, i, h, e)));
    return assign(dqkv, [n, t, s, h, e], select(s.eq(0), dq, select(s.eq(1), dk, dv)));
  });
