// Type-level checks of the DSL: ranks are known to the type system (checked by `pnpm typecheck`),
// and the runtime rejects what the types can't see.
import assert from 'node:assert/strict';
import { loop } from '../../src/ir/expr.js';
import { op } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';

describe('DSL types', () => {
  it('knows tensor ranks at compile time', () => {
    const def = op('rank_demo', 'demo')
      .typeVar('T', ['f32'])
      .output('y', '$T', ['M', 'N'])
      .input('x', '$T', ['M', 'N'])
      .define(({ y, x }, { M, N }) => {
        const [m, n] = [loop('m', M), loop('n', N)];
        // @ts-expect-error: x has rank 2
        assert.throws(() => x.at(m));
        // @ts-expect-error: y has rank 2
        assert.throws(() => assign(y, [m], 0));
        // @ts-expect-error: no size named K in this op
        void ((s: typeof M) => s)(undefined as unknown as Record<'M' | 'N', typeof M>['K']);
        return assign(y, [m, n], x.at(m, n));
      });
    assert.deepEqual(def.sizes, ['M', 'N']);
  });
  it('rejects ops that never assign an output', () => {
    assert.throws(
      () =>
        op('never', 'x')
          .output('y', 'f32', ['N'])
          .input('x', 'f32', ['N'])
          .define(() => []),
      /output y is never assigned/,
    );
  });
  it('rejects op names that are not snake_case', () => {
    assert.throws(() => op('BadName', 'x'));
  });
  it('builds the product of type variables', () => {
    const def = op('prod_demo', 'x')
      .typeVar('A', ['f32', 'bf16'])
      .typeVar('B', ['f32', 'f64'])
      .output('y', '$A', ['N'])
      .input('x', '$B', ['N'])
      .define(({ y, x }, { N }) => {
        const i = loop('i', N);
        return assign(y, [i], x.at(i));
      });
    assert.equal(def.variants.length, 4);
  });
});
