// Lowering: every op gets the schedule class its structure calls for.
import assert from 'node:assert/strict';
import { loop, sum } from '../../src/ir/expr.js';
import { op } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { lowerOp } from '../../src/lower/lower.js';
import { ALL_OPS, getOp } from '../../src/ops/index.js';

const kinds = (name: string) => lowerOp(getOp(name)).map((k) => k.schedule.kind);

describe('lowerOp', () => {
  it('classifies the ops', () => {
    assert.deepEqual(kinds('gelu_forward'), ['pointwise']);
    assert.deepEqual(kinds('bias_gelu_forward'), ['pointwise']);
    assert.deepEqual(kinds('softmax_forward'), ['rowwise']);
    assert.deepEqual(kinds('layernorm_forward'), ['rowwise']);
    assert.deepEqual(kinds('layernorm_backward'), ['rowwise', 'outreduce']);
    assert.deepEqual(kinds('sum_forward'), ['outreduce']);
    for (const n of [
      'matmul_nn',
      'matmul_nt',
      'matmul_tn',
      'matmul_tt',
      'linear_forward',
      'linear_gelu_forward',
    ])
      assert.deepEqual(kinds(n), ['contraction'], n);
  });
  it('every op without a schedule template has a CUDA schedule', () => {
    for (const o of ALL_OPS.filter((x) => !x.template))
      for (const k of lowerOp(o)) assert.notEqual(k.schedule.kind, 'none', k.name);
  });
  it('computes a shared reduction once (softmax max feeds the sum and the output)', () => {
    const [k] = lowerOp(getOp('softmax_forward'));
    assert.ok(k && k.schedule.kind === 'rowwise');
    assert.equal(k.schedule.rowBody.filter((s) => s.k === 'reduce').length, 2);
  });
  it('fuses the GEMM epilogue (bias + gelu after the accumulator)', () => {
    const [k] = lowerOp(getOp('linear_gelu_forward'));
    assert.ok(k && k.schedule.kind === 'contraction');
    assert.deepEqual(
      k.schedule.epilogue.map((s) => s.k),
      ['let', 'store', 'let', 'store'],
    );
  });
  it('rejects reading an output at another index within a kernel', () => {
    const bad = op('bad_op', 'reads a neighbour')
      .typeVar('T', ['f32'])
      .output('y', '$T', ['N'])
      .output('z', '$T', ['N'])
      .input('x', '$T', ['N'])
      .define(({ y, z, x }, { N }) => {
        const i = loop('i', N);
        const j = loop('j', N);
        return [assign(y, [i], x.at(i)), assign(z, [i], sum([j], y.at(j)))];
      });
    assert.throws(() => lowerOp(bad), /read at another index/);
  });
});
