// Schedule templates (emit/templates.ts, cpu_flash.ts, cuda_flash.ts): ops naming one get its
// kernels instead of the generic lowering's, with the usual signatures around them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { emitCudaFile } from '../../src/emit/cuda.js';
import { FLASH_HEAD_SIZES, flashSmem } from '../../src/emit/cuda_flash.js';
import { emitCpuFile } from '../../src/emit/files.js';
import { generateAll } from '../../src/generate.js';
import { loop } from '../../src/ir/expr.js';
import { op } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { getOp } from '../../src/ops/index.js';

describe('schedule templates', () => {
  const files = generateAll();
  const cu = files['ops_cuda.cu']!;
  const cpu = files['ops_cpu.cpp']!;

  it('keeps the signature order: outputs, inputs, params, sizes', () => {
    assert.ok(
      cpu.includes(
        'void MAE_CPU_FN(attention_forward_cpu_f32)(float* out, float* lse, const float* qkv, double scale, int64_t N, int64_t T, int64_t H, int64_t E) {',
      ),
    );
    assert.ok(
      cpu.includes(
        'void MAE_CPU_FN(attention_backward_cpu_bf16)(uint16_t* dqkv, const uint16_t* dout, const uint16_t* qkv, const uint16_t* out, const float* lse, double scale, int64_t N, int64_t T, int64_t H, int64_t E) {',
      ),
    );
    assert.ok(cpu.includes('attention_forward_cpu_f64)(double* out, double* lse'));
    assert.ok(
      cu.includes(
        'mae_status attention_forward_cuda_bf16(uint16_t* out, float* lse, const uint16_t* qkv, double scale, int64_t N, int64_t T, int64_t H, int64_t E, int device, void* stream) {',
      ),
    );
    assert.ok(files['ops_capi.cpp']!.includes('mae_status mae_attention_backward('));
  });

  it('instantiates every tensor-core head size and the SIMT fallback, f32 and bf16, no f64', () => {
    for (const dt of ['f32', 'bf16']) {
      for (const E of FLASH_HEAD_SIZES) {
        assert.ok(
          cu.includes(
            `MAE_LAUNCH(attention_forward_cuda_${dt}_e${E}, _tiles, 128, (size_t)(${flashSmem.forward(E)}), _st, `,
          ),
        );
        assert.ok(cu.includes(`MAE_LAUNCH(attention_backward_cuda_${dt}_dkdv_e${E}, `));
        assert.ok(cu.includes(`MAE_LAUNCH(attention_backward_cuda_${dt}_dq_e${E}, `));
        assert.ok(cu.includes(`    case ${E}: {`));
      }
      assert.ok(cu.includes(`MAE_LAUNCH(attention_forward_cuda_${dt}_simt, _rows`));
      assert.ok(cu.includes(`MAE_LAUNCH(attention_backward_cuda_${dt}_dq_simt, _rows`));
    }
    assert.ok(!cu.includes('attention_forward_cuda_f64'));
    // the tensor-core MMA through the hand-written helper (packages/native/src/device/prelude.cuh)
    assert.ok(cu.includes('#include "prelude.cuh"') && cu.includes('mae_mma_bf16_16816('));
    const prelude = readFileSync(new URL('../../../native/src/device/prelude.cuh', import.meta.url), 'utf8');
    assert.ok(prelude.includes('mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32'));
  });

  it('emits the shared device code once, before the first op that uses it', () => {
    const head = '// ---- flash attention device code';
    assert.equal(cu.split(head).length, 2);
    assert.ok(cu.indexOf(head) < cu.indexOf('// ---- attention_backward:'));
    const only = emitCudaFile([getOp('attention_forward')]);
    assert.ok(only.includes(head) && only.includes('mae_fa_forward<float, 64, 64>'));
    assert.ok(!emitCudaFile([getOp('softmax_forward')]).includes(head));
  });

  it('needs no lowering for the templated ops, and refuses an unknown template', () => {
    assert.ok(emitCpuFile([getOp('attention_backward')]).includes('flash_backward template'));
    const bad = op('bad_template', 'x')
      .output('y', 'f32', ['M'])
      .input('x', 'f32', ['M'])
      .template({ cpu: 'nope', cuda: 'nope' })
      .define(({ y, x }, { M }) => {
        const m = loop('m', M);
        return assign(y, [m], x.at(m));
      });
    assert.throws(() => emitCpuFile([bad]), /unknown CPU schedule template nope/);
    assert.throws(() => emitCudaFile([bad]), /unknown CUDA schedule template nope/);
  });
});
