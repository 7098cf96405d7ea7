// reduce.ts: sum, mean and max along one axis. The kernel sees x as [A, R, B] (R the reduced
// axis); the TypeScript wrapper takes any shape and an axis and makes those views.
import { loop, maxOver, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

const view = { input: 'x', output: 'out', dims: ['A', 'R', 'B'] } as const;

export const sum_forward = op('sum_forward', 'out = sum of x along an axis')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['A', 'B'])
  .input('x', '$T', ['A', 'R', 'B'])
  .axisView(view)
  .define(({ out, x }, { A, R, B }) => {
    const [a, r, b] = [loop('a', A), loop('r', R), loop('b', B)];
    return assign(out, [a, b], sum([r], x.at(a, r, b)));
  });

export const mean_forward = op('mean_forward', 'out = mean of x along an axis')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['A', 'B'])
  .input('x', '$T', ['A', 'R', 'B'])
  .axisView(view)
  .define(({ out, x }, { A, R, B }) => {
    const [a, r, b] = [loop('a', A), loop('r', R), loop('b', B)];
    return assign(out, [a, b], sum([r], x.at(a, r, b)).div(R));
  });

export const max_forward = op('max_forward', 'out = max of x along an axis')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['A', 'B'])
  .input('x', '$T', ['A', 'R', 'B'])
  .axisView(view)
  .constrain({ size: 'R', min: 1 })
  .define(({ out, x }, { A, R, B }) => {
    const [a, r, b] = [loop('a', A), loop('r', R), loop('b', B)];
    return assign(out, [a, b], maxOver([r], x.at(a, r, b)));
  });

export const sumsq_forward = op('sumsq_forward', 'out[0] = sum of x^2 (for gradient norms)')
  .typeVar('T', ['f32', 'f64'])
  .output('out', '$T', [1])
  .input('x', '$T', ['N'])
  .define(({ out, x }, { N }) => {
    const [u, i] = [loop('u', 1), loop('i', N)];
    return assign(out, [u], sum([i], x.at(i).mul(x.at(i))));
  });
