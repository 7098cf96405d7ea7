// vector.ts (and cuda_rowvec.ts's use of it): which column reductions a lane takes V outputs of, with one 16-byte load per tensor
// read along them: every read of the outputs' last axis is a stride-1 last index, and the tensors
// so read share one element size (bf16: 8, f32: 4); anything else (the axis in another index, as a
// value, through a gather; other types) keeps one output a lane.
import assert from 'node:assert/strict';
import { rowVecPlan } from '../../src/emit/cuda_rowvec.js';
import { splittable } from '../../src/emit/outreduce.js';
import { type VectorPlan, vectorPlan } from '../../src/emit/vector.js';
import { type DType, isFloat } from '../../src/ir/dtype.js';
import { loop, sum } from '../../src/ir/expr.js';
import { type OpDef, op, resolveDType } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { lowerOp } from '../../src/lower/lower.js';
import { getOp } from '../../src/ops/index.js';

/** The plan of op's column reduction kernel (its last kernel) in the variant T = t. */
function plan(o: OpDef, t: DType): VectorPlan | undefined {
  const k = lowerOp(o).at(-1)!;
  assert.equal(k.schedule.kind, 'outreduce');
  if (k.schedule.kind !== 'outreduce') return undefined;
  const reds = splittable(k.schedule.body);
  assert.ok(reds, 'splittable reductions');
  const last = k.schedule.vars.at(-1)!;
  return vectorPlan(last, reds, (l) => resolveDType(l.t.dtype, { T: t }));
}

const colsum = (name: string, body: 'x[r, b]' | 'x[b, r]' | 'x[r, b] * b' | 'x[r, ids[b]]') =>
  op(name, 'a column reduction for the plan')
    .typeVar('T', ['f32', 'bf16'])
    .output('out', '$T', ['B'])
    .input('x', '$T', ['R', 'B'])
    .input('ids', 'i32', ['B'])
    .define(({ out, x, ids }, { R, B }) => {
      const [b, r] = [loop('b', B), loop('r', R)];
      const term =
        body === 'x[r, b]'
          ? x.at(r, b)
          : body === 'x[b, r]'
            ? x.at(b, r)
            : body === 'x[r, b] * b'
              ? x.at(r, b).mul(b)
              : x.at(r, ids.at(b));
      return assign(out, [b], sum([r], term));
    });

describe('vectorPlan', () => {
  it('takes 16 bytes of each tensor read along the outputs: 8 bf16 or 4 f32 outputs a lane', () => {
    assert.equal(plan(getOp('sum_forward'), 'bf16')?.width, 8);
    assert.equal(plan(getOp('sum_forward'), 'f32')?.width, 4);
    const ln = plan(getOp('layernorm_backward'), 'bf16');
    // dweight = sum dout xhat, dbias = sum dout: dout twice and x once along the columns; the
    // row statistics (mean, rstd: f32) do not depend on the column and are not vectors
    assert.equal(ln?.width, 8);
    assert.deepEqual(
      ln?.loads.map((l) => l.t.name),
      ['dout', 'x', 'dout'],
    );
    assert.ok(ln?.loads.every((l) => isFloat(resolveDType(l.t.dtype, { T: 'bf16' }))));
  });
  it('keeps one output a lane where the axis is read otherwise', () => {
    assert.ok(plan(colsum('plain', 'x[r, b]'), 'bf16'), 'the plain column sum has a plan');
    assert.equal(plan(colsum('strided', 'x[b, r]'), 'bf16'), undefined, 'the axis in another index');
    assert.equal(plan(colsum('as_value', 'x[r, b] * b'), 'bf16'), undefined, 'the axis as a value');
    assert.equal(plan(colsum('gather', 'x[r, ids[b]]'), 'bf16'), undefined, 'the axis through a gather');
  });
});

describe('rowVecPlan', () => {
  const rowwise = (o: OpDef) => {
    const k = lowerOp(o)[0]!;
    assert.equal(k.schedule.kind, 'rowwise');
    return k.schedule as Extract<typeof k.schedule, { kind: 'rowwise' }>;
  };
  it("takes the rowwise ops' rows 16 bytes at a time: reads, reductions and stores along the row", () => {
    const ln = rowVecPlan(rowwise(getOp('layernorm_forward')), (t) => resolveDType(t.dtype, { T: 'bf16' }));
    assert.equal(ln?.width, 8);
    assert.deepEqual(ln?.tensors.map((t) => t.name).sort(), ['bias', 'out', 'weight', 'x']);
    const f32 = rowVecPlan(rowwise(getOp('softmax_forward')), (t) => resolveDType(t.dtype, { T: 'f32' }));
    assert.equal(f32?.width, 4);
  });
  it('keeps the element kernel where the row position is a value', () => {
    const iota = op('row_iota', 'out[m, n] = x[m, n] * n / sum_k x[m, k]: the position as a value')
      .typeVar('T', ['bf16'])
      .output('out', '$T', ['M', 'N'])
      .input('x', '$T', ['M', 'N'])
      .define(({ out, x }, { M, N }) => {
        const [m, n, k] = [loop('m', M), loop('n', N), loop('k', N)];
        return assign(
          out,
          [m, n],
          x
            .at(m, n)
            .mul(n)
            .div(sum([k], x.at(m, k))),
        );
      });
    assert.equal(
      rowVecPlan(rowwise(iota), () => 'bf16'),
      undefined,
    );
  });
});
