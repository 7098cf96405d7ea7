// attention.ts: head layout changes around the attention GEMMs. The qkv linear gives
// [N, T, 3, H, E]; attention runs on q, k, v as [N*H, T, E]; heads are merged back to [N, T, H*E]
// with `swap12_forward` (which is its own backward).
import { loop, select } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const qkv_split_forward = op('qkv_split_forward', 'q/k/v[n, h, t, e] = qkv[n, t, 0/1/2, h, e]')
  .typeVar('T', FLOATS)
  .output('q', '$T', ['N', 'H', 'T', 'E'])
  .output('k', '$T', ['N', 'H', 'T', 'E'])
  .output('v', '$T', ['N', 'H', 'T', 'E'])
  .input('qkv', '$T', ['N', 'T', 3, 'H', 'E'])
  .define(({ q, k, v, qkv }, { N, H, T, E }) => {
    const [n, h, t, e] = [loop('n', N), loop('h', H), loop('t', T), loop('e', E)];
    return [
      assign(q, [n, h, t, e], qkv.at(n, t, 0, h, e)),
      assign(k, [n, h, t, e], qkv.at(n, t, 1, h, e)),
      assign(v, [n, h, t, e], qkv.at(n, t, 2, h, e)),
    ];
  });

export const qkv_split_backward = op(
  'qkv_split_backward',
  'dqkv[n, t, s, h, e] = (dq, dk, dv)[s][n, h, t, e]',
)
  .typeVar('T', FLOATS)
  .output('dqkv', '$T', ['N', 'T', 3, 'H', 'E'])
  .input('dq', '$T', ['N', 'H', 'T', 'E'])
  .input('dk', '$T', ['N', 'H', 'T', 'E'])
  .input('dv', '$T', ['N', 'H', 'T', 'E'])
  .define(({ dqkv, dq, dk, dv }, { N, H, T, E }) => {
    const [n, t, s, h, e] = [loop('n', N), loop('t', T), loop('s', 3), loop('h', H), loop('e', E)];
    return assign(
      dqkv,
      [n, t, s, h, e],
      select(s.eq(0), dq.at(n, h, t, e), select(s.eq(1), dk.at(n, h, t, e), dv.at(n, h, t, e))),
    );
  });

export const swap12_forward = op('swap12_forward', 'out[a, c, b, d] = x[a, b, c, d] (swaps the middle axes)')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['A', 'C', 'B', 'D'])
  .input('x', '$T', ['A', 'B', 'C', 'D'])
  .define(({ out, x }, { A, B, C, D }) => {
    const [a, b, c, d] = [loop('a', A), loop('b', B), loop('c', C), loop('d', D)];
    return assign(out, [a, c, b, d], x.at(a, b, c, d));
  });
