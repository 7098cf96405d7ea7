// elementwise.ts: GELU (exact erf) and its derived backward, bias add, fused bias+GELU, residual
// add, scale, and dtype casts. Each is one definition for both backends.

import { derivative } from '../ir/diff.js';
import type { DType } from '../ir/dtype.js';
import { type Ex, erf, loop } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';

export const FLOATS: readonly DType[] = ['f32', 'bf16', 'f64'];

/** Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
export const gelu = (x: Ex): Ex => x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1));
/** d gelu / dx, derived by the DSL. */
export const dgelu = derivative(gelu);

export const gelu_forward = op('gelu_forward', 'out = gelu(x), exact (erf) GELU')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N'])
  .input('x', '$T', ['N'])
  .define(({ out, x }, { N }) => {
    const i = loop('i', N);
    return assign(out, [i], gelu(x.at(i)));
  });

export const gelu_backward = op(
  'gelu_backward',
  "dx = dout * gelu'(x), the derivative derived from gelu_forward",
)
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['N'])
  .input('x', '$T', ['N'])
  .input('dout', '$T', ['N'])
  .define(({ dx, x, dout }, { N }) => {
    const i = loop('i', N);
    return assign(dx, [i], dout.at(i).mul(dgelu(x.at(i))));
  });

export const bias_add_forward = op('bias_add_forward', 'out[m, n] = x[m, n] + bias[n]')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .input('x', '$T', ['M', 'N'])
  .input('bias', '$T', ['N'])
  .define(({ out, x, bias }, { M, N }) => {
    const [m, n] = [loop('m', M), loop('n', N)];
    return assign(out, [m, n], x.at(m, n).add(bias.at(n)));
  });

export const bias_gelu_forward = op(
  'bias_gelu_forward',
  'pre = x + bias; out = gelu(pre); pre is kept for the backward',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .output('pre', '$T', ['M', 'N'])
  .input('x', '$T', ['M', 'N'])
  .input('bias', '$T', ['N'])
  .define(({ out, pre, x, bias }, { M, N }) => {
    const [m, n] = [loop('m', M), loop('n', N)];
    return [assign(pre, [m, n], x.at(m, n).add(bias.at(n))), assign(out, [m, n], gelu(pre.at(m, n)))];
  });

export const residual_forward = op('residual_forward', 'out = a + b')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N'])
  .input('a', '$T', ['N'])
  .input('b', '$T', ['N'])
  .inPlace('out', 'a') // x += y (gradient accumulation)
  .inPlace('out', 'b')
  .define(({ out, a, b }, { N }) => {
    const i = loop('i', N);
    return assign(out, [i], a.at(i).add(b.at(i)));
  });

export const scale_forward = op('scale_forward', 'out = alpha * x')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N'])
  .input('x', '$T', ['N'])
  .param('alpha', 'the scale factor')
  .inPlace('out', 'x') // x *= alpha (gradient clipping)
  .define(({ out, x }, { N }, { alpha }) => {
    const i = loop('i', N);
    return assign(out, [i], x.at(i).mul(alpha));
  });

export const cast_forward = op(
  'cast_forward',
  'out = x converted to the output dtype (round to nearest even)',
)
  .variants([
    { TI: 'f32', TO: 'bf16' },
    { TI: 'bf16', TO: 'f32' },
    { TI: 'f32', TO: 'f16' },
    { TI: 'f16', TO: 'f32' },
    { TI: 'f32', TO: 'f64' },
    { TI: 'f64', TO: 'f32' },
  ])
  .output('out', '$TO', ['N'])
  .input('x', '$TI', ['N'])
  .define(({ out, x }, { N }) => {
    const i = loop('i', N);
    return assign(out, [i], x.at(i));
  });
