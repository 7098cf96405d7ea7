// softmax.ts: softmax over the last axis and its backward.
import { exp, loop, maxOver, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const softmax_forward = op('softmax_forward', 'out[m, :] = softmax(x[m, :]) (max-subtracted)')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .input('x', '$T', ['M', 'N'])
  .constrain({ size: 'N', min: 1 })
  .define(({ out, x }, { M, N }) => {
    const [m, n, k] = [loop('m', M), loop('n', N), loop('k', N)];
    const mx = maxOver([k], x.at(m, k));
    const z = sum([k], exp(x.at(m, k).sub(mx)));
    return assign(out, [m, n], exp(x.at(m, n).sub(mx)).div(z));
  });

export const softmax_backward = op('softmax_backward', 'dx = y * (dy - sum(dy * y)) for y = softmax(x)')
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['M', 'N'])
  .input('y', '$T', ['M', 'N'])
  .input('dy', '$T', ['M', 'N'])
  .define(({ dx, y, dy }, { M, N }) => {
    const [m, n, k] = [loop('m', M), loop('n', N), loop('k', N)];
    const dot = sum([k], dy.at(m, k).mul(y.at(m, k)));
    return assign(dx, [m, n], y.at(m, n).mul(dy.at(m, n).sub(dot)));
  });
