// Symbolic derivatives against central finite differences, evaluated by the reference interpreter.
import assert from 'node:assert/strict';
import { derivative } from '../../src/ir/diff.js';
import { type Ex, erf, exp, loop, max, rsqrt, sqrt, tanh } from '../../src/ir/expr.js';
import { op } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { gelu } from '../../src/ops/elementwise.js';
import { evaluateOp } from '../../src/reference/interp.js';

function unaryOp(f: (x: Ex) => Ex) {
  return op('unary_demo', 'f(x)')
    .typeVar('T', ['f64'])
    .output('y', '$T', ['N'])
    .input('x', '$T', ['N'])
    .define(({ y, x }, { N }) => {
      const i = loop('i', N);
      return assign(y, [i], f(x.at(i)));
    });
}

const fns: Record<string, (x: Ex) => Ex> = {
  gelu,
  exp: (x) => exp(x.mul(0.3)),
  tanh: (x) => tanh(x).mul(x),
  sqrt: (x) => sqrt(x.mul(x).add(1)),
  rsqrt: (x) => rsqrt(x.mul(x).add(0.5)),
  erf: (x) => erf(x.mul(1.7)),
  quotient: (x) => x.mul(x).div(x.mul(x).add(2)),
  max: (x) => max(x, x.mul(0.1)),
};

describe('derivative', () => {
  for (const [name, f] of Object.entries(fns)) {
    it(`d/dx ${name} matches finite differences`, () => {
      const xs = Array.from({ length: 41 }, (_, i) => -3.03 + i * 0.15);
      const h = 1e-5;
      const F = unaryOp(f);
      const D = unaryOp(derivative(f));
      const at = (o: typeof F, v: number[]) => evaluateOp(o, { x: { shape: [v.length], data: v } }).y!.data;
      const d = at(D, xs);
      const fp = at(
        F,
        xs.map((x) => x + h),
      );
      const fm = at(
        F,
        xs.map((x) => x - h),
      );
      xs.forEach((x, i) => {
        const fd = (fp[i]! - fm[i]!) / (2 * h);
        assert.ok(Math.abs(d[i]! - fd) <= 1e-6 + 1e-6 * Math.abs(fd), `${name}'(${x}) = ${d[i]} vs ${fd}`);
      });
    });
  }
});
