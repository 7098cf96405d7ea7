// cuda_gemm.ts: which contraction operands the asynchronous GEMM (gemm_async.cuh) can copy in
// 16-byte chunks: plain loads of a tensor at [batch..., row, k] or [batch..., k, row] whose every
// index runs over its very dimension; anything else (an offset index, a gather, a sliced dimension,
// a flattened k) keeps the value-loading kernel; and which epilogues the wgmma kernel runs on 8 bf16
// (or 4 f32) outputs a lane (epilogueVecPlan): every tensor read or written along n at stride 1.
import assert from 'node:assert/strict';
import { directOperand, epilogueVecPlan } from '../../src/emit/cuda_gemm.js';
import { loop, sum } from '../../src/ir/expr.js';
import { op, resolveDType } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { type Contraction, lowerOp } from '../../src/lower/lower.js';
import { getOp } from '../../src/ops/index.js';

const contraction = (o: Parameters<typeof lowerOp>[0]): Contraction => {
  const [k] = lowerOp(o);
  assert.ok(k && k.schedule.kind === 'contraction', 'a contraction');
  return k.schedule;
};
const contiguous = (c: Contraction, w: 'a' | 'b') => directOperand(c, w)?.contiguous;

describe('directOperand', () => {
  it('takes the operands of every GEMM op, with the dimension that must be a multiple of 8', () => {
    assert.deepEqual(
      ['a', 'b'].map((w) => contiguous(contraction(getOp('matmul_tn')), w as 'a')),
      ['M', 'N'],
    );
    assert.deepEqual(
      ['a', 'b'].map((w) => contiguous(contraction(getOp('matmul_nt')), w as 'a')),
      ['K', 'K'],
    );
    assert.deepEqual(
      ['a', 'b'].map((w) => contiguous(contraction(getOp('linear_residual_forward')), w as 'a')),
      ['K', 'K'],
    );
  });
  it('refuses an offset index, a sliced dimension and a flattened k', () => {
    const shifted = op('shifted', 'out = x[m, k + 1] w[n, k]')
      .output('out', 'f32', ['M', 'N'])
      .input('x', 'f32', ['M', 'K1'])
      .input('w', 'f32', ['N', 'K'])
      .define(({ out, x, w }, { M, N, K }) => {
        const [m, n, k] = [loop('m', M), loop('n', N), loop('k', K)];
        return assign(out, [m, n], sum([k], x.at(m, k.add(1)).mul(w.at(n, k))));
      });
    const c = contraction(shifted);
    assert.equal(directOperand(c, 'a'), undefined, 'x[m, k + 1]');
    assert.equal(directOperand(c, 'b')?.contiguous, 'K');
    const sliced = op('sliced', 'out = x[m, k] w[n, k], k < K of x [M, K1]')
      .output('out', 'f32', ['M', 'N'])
      .input('x', 'f32', ['M', 'K1'])
      .input('w', 'f32', ['N', 'K'])
      .define(({ out, x, w }, { M, N, K }) => {
        const [m, n, k] = [loop('m', M), loop('n', N), loop('k', K)];
        return assign(out, [m, n], sum([k], x.at(m, k).mul(w.at(n, k))));
      });
    assert.equal(directOperand(contraction(sliced), 'a'), undefined, 'k runs over K, x has K1 columns');
    const flat = op('flat_k', 'out = sum over (h, e) of x[m, h, e] w[n, h, e]')
      .output('out', 'f32', ['M', 'N'])
      .input('x', 'f32', ['M', 'H', 'E'])
      .input('w', 'f32', ['N', 'H', 'E'])
      .define(({ out, x, w }, { M, N, H, E }) => {
        const [m, n, h, e] = [loop('m', M), loop('n', N), loop('h', H), loop('e', E)];
        return assign(out, [m, n], sum([h, e], x.at(m, h, e).mul(w.at(n, h, e))));
      });
    const f = contraction(flat);
    assert.equal(f.kvars.length, 2);
    assert.equal(directOperand(f, 'a'), undefined, 'two k variables');
  });
});

describe('epilogueVecPlan', () => {
  const bf16 = (t: { dtype: Parameters<typeof resolveDType>[0] }) => resolveDType(t.dtype, { T: 'bf16' });
  it("takes the GEMM ops' epilogues 8 bf16 outputs a lane: the tensors read and written along n", () => {
    const res = epilogueVecPlan(contraction(getOp('linear_residual_forward')), bf16);
    assert.equal(res?.width, 8);
    assert.deepEqual(res?.tensors.map((t) => t.name).sort(), ['bias', 'out', 'residual']);
    const gelu = epilogueVecPlan(contraction(getOp('linear_gelu_forward')), bf16);
    assert.deepEqual(gelu?.tensors.map((t) => t.name).sort(), ['bias', 'out', 'pre']);
    // a plain product: no load, its store along n
    const mm = epilogueVecPlan(contraction(getOp('matmul_nn')), bf16);
    assert.deepEqual([mm?.width, mm?.loads.length, mm?.tensors.map((t) => t.name)], [8, 0, ['out']]);
    const f32 = epilogueVecPlan(contraction(getOp('linear_forward')), (t) =>
      resolveDType(t.dtype, { T: 'f32' }),
    );
    assert.equal(f32?.width, 4);
  });
  it('keeps the scalar epilogue where a tensor is read across n, or n is a value', () => {
    const across = op('bias_across', 'out = x w^T + c[n, m]: a tensor read with n in another index')
      .typeVar('T', ['bf16'])
      .output('out', '$T', ['M', 'N'])
      .input('x', '$T', ['M', 'K'])
      .input('w', '$T', ['N', 'K'])
      .input('c', '$T', ['N', 'M'])
      .define(({ out, x, w, c }, { M, N, K }) => {
        const [m, n, k] = [loop('m', M), loop('n', N), loop('k', K)];
        return assign(out, [m, n], sum([k], x.at(m, k).mul(w.at(n, k))).add(c.at(n, m)));
      });
    assert.equal(epilogueVecPlan(contraction(across), bf16), undefined);
    const iota = op('col_iota', 'out = (x w^T) n: the column as a value')
      .typeVar('T', ['bf16'])
      .output('out', '$T', ['M', 'N'])
      .input('x', '$T', ['M', 'K'])
      .input('w', '$T', ['N', 'K'])
      .define(({ out, x, w }, { M, N, K }) => {
        const [m, n, k] = [loop('m', M), loop('n', N), loop('k', K)];
        return assign(out, [m, n], sum([k], x.at(m, k).mul(w.at(n, k))).mul(n));
      });
    assert.equal(epilogueVecPlan(contraction(iota), bf16), undefined);
  });
});
