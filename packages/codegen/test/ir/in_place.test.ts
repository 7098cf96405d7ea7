// in_place.test.ts: OpDef.inPlace: the pairs an op declares (AdamW's moments and parameters, the
// noise counter, x += y, x *= alpha), checked names, dtypes and shapes, CUDA pointers without
// __restrict__ exactly there, and the C ABI's overlap checks on every other pair.
import assert from 'node:assert/strict';
import { generateAll } from '../../src/generate.js';
import { loop } from '../../src/ir/expr.js';
import { op } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { getOp } from '../../src/ops/index.js';

describe('OpDef.inPlace', () => {
  it('is declared on the ops that run in place', () => {
    assert.deepEqual(getOp('adamw_flat_forward').inPlace, [
      ['p_out', 'p'],
      ['m_out', 'm'],
      ['v_out', 'v'],
    ]);
    assert.deepEqual(getOp('noise_step_forward').inPlace, [['ctr_out', 'ctr']]);
    assert.deepEqual(getOp('gelu_forward').inPlace, []);
  });

  it('refuses pairs that name no tensor or differ in dtype or shape', () => {
    const demo = (o: string, i: string) =>
      op('demo', 'x')
        .output('y', 'f32', ['N'])
        .input('x', 'f32', ['N'])
        .input('z', 'i32', ['N'])
        .inPlace(o, i)
        .define(({ y, x }, { N }) => {
          const i = loop('i', N);
          return assign(y, [i], x.at(i));
        });
    assert.throws(() => demo('y', 'w'), /inPlace\(y, w\) names no such output and input/);
    assert.throws(() => demo('y', 'z'), /inPlace\(y, z\) needs the same dtype and shape/);
    assert.deepEqual(demo('y', 'x').inPlace, [['y', 'x']]);
  });

  it('drops __restrict__ only on the declared pointers; the C ABI checks every other output overlap', () => {
    const files = generateAll();
    const cu = files['ops_cuda.cu']!;
    assert.ok(cu.includes('noise_step_forward_cuda_any_k0(int32_t* ctr_out, const int32_t* ctr)'));
    assert.match(cu, /gelu_forward_cuda_f32_k0\(float\* __restrict__ out, const float\* __restrict__ x/);
    const capi = files['ops_capi.cpp']!;
    assert.ok(capi.includes('if (overlap(OP, ctr_out, "ctr_out", ctr, "ctr", true)) return MAE_ERROR;'));
    assert.ok(capi.includes('if (overlap(OP, out, "out", x, "x", false)) return MAE_ERROR;'));
  });
});
