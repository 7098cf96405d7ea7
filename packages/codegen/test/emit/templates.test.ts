// Schedule templates (emit/templates.ts, cpu_flash.ts, cuda_flash.ts): ops naming one get its
// kernels instead of the generic lowering's, with the usual signatures around them and the strides
// of the tensors as the op declares them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { emitCudaFile } from '../../src/emit/cuda.js';
import { FLASH_HEAD_SIZES, flashSmem, flashTiles } from '../../src/emit/cuda_flash.js';
import { emitCpuFile } from '../../src/emit/files.js';
import { contiguousStrides } from '../../src/emit/signature.js';
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
      // two 16-row tiles a warp at head size 32 (128 rows a CTA), one at 64
      const TS = dt === 'bf16' ? '__nv_bfloat16' : 'float';
      assert.deepEqual(flashTiles(32), { wm: 2, rows: 128, bn: 64, bq: 32, bk: 32 });
      assert.deepEqual(flashTiles(64), { wm: 1, rows: 64, bn: 64, bq: 64, bk: 64 });
      assert.ok(
        cu.includes(`mae_fa_forward<${TS}, 32, 64, 2>(`) && cu.includes(`mae_fa_forward<${TS}, 64, 64, 1>(`),
      );
      assert.ok(cu.includes(`mae_fa_dkdv<${TS}, 32, 32, 2>(`) && cu.includes(`mae_fa_dq<${TS}, 32, 32, 2>(`));
      assert.ok(
        cu.includes(`mae_fa_dkdv<${TS}, 128, 32, 1>(`) && cu.includes(`mae_fa_dq<${TS}, 64, 64, 1>(`),
      );
      assert.ok(
        cu.includes(
          '    case 32: {\n      const dim3 _tiles((unsigned)((T + 127) / 128), (unsigned)H, _gz);',
        ),
      );
      assert.ok(
        cu.includes('    case 64: {\n      const dim3 _tiles((unsigned)((T + 63) / 64), (unsigned)H, _gz);'),
      );
      assert.ok(cu.includes(`MAE_LAUNCH(attention_forward_cuda_${dt}_simt, _rows`));
      assert.ok(cu.includes(`MAE_LAUNCH(attention_backward_cuda_${dt}_dq_simt, _rows`));
    }
    assert.ok(!cu.includes('attention_forward_cuda_f64'));
    // the tensor-core MMA through the hand-written helper (packages/native/src/device/prelude.cuh),
    // called by the hand-written GEMM and attention tiles the generated file includes
    const device = (f: string) =>
      readFileSync(new URL(`../../../native/src/device/${f}`, import.meta.url), 'utf8');
    for (const f of ['prelude.cuh', 'gemm.cuh', 'flash.cuh']) assert.ok(cu.includes(`#include "${f}"`), f);
    assert.ok(device('prelude.cuh').includes('mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32'));
    for (const f of ['gemm.cuh', 'flash_forward.cuh', 'flash_backward.cuh'])
      assert.ok(device(f).includes('mae_mma_bf16_16816('), f);
  });

  it('passes the CUDA kernels the strides of the tensors as the op declares them', () => {
    assert.deepEqual(contiguousStrides(getOp('attention_forward'), 'qkv'), [
      'T * (int64_t)3 * H * E',
      '(int64_t)3 * H * E',
      'H * E',
      'E',
      '(int64_t)1',
    ]);
    const lay =
      '    _ly.qkv_n = T * (int64_t)3 * H * E; _ly.qkv_t = (int64_t)3 * H * E; _ly.qkv_part = H * E; _ly.qkv_h = E;';
    assert.equal(cu.split(lay).length - 1, 4, 'forward and backward, f32 and bf16');
    // the device code assumes no layout: every stride comes from mae_flash_layout
    const dir = new URL('../../../native/src/device/', import.meta.url);
    for (const f of ['flash_forward.cuh', 'flash_backward.cuh', 'flash_simt.cuh']) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      assert.doesNotMatch(src, /H \* E|\* H\b|\(n \* T/, f);
      assert.match(src, /const mae_flash_layout lay/, f);
    }
    const odd = op('odd_flash', 'attention on a qkv without its part axis')
      .output('out', 'f32', ['N', 'T', 'H', 'E'])
      .output('lse', 'f32', ['N', 'H', 'T'])
      .input('qkv', 'f32', ['N', 'T', 'H', 'E'])
      .param('scale', 'x')
      .template({ cpu: 'flash_forward', cuda: 'flash_forward' })
      .define(({ out, lse, qkv }, { N, T, H, E }) => {
        const [n, t, h, e] = [loop('n', N), loop('t', T), loop('h', H), loop('e', E)];
        return [assign(out, [n, t, h, e], qkv.at(n, t, h, e)), assign(lse, [n, h, t], qkv.at(n, t, h, 0))];
      });
    assert.throws(() => emitCudaFile([odd]), /needs qkv over N, T, 3, H, E with E last/);
  });

  it('emits the shared device code once, before the first op that uses it', () => {
    const head = '// ---- flash attention device code';
    assert.equal(cu.split(head).length, 2);
    assert.ok(cu.indexOf(head) < cu.indexOf('// ---- attention_backward:'));
    const only = emitCudaFile([getOp('attention_forward')]);
    assert.ok(only.includes(head) && only.includes('mae_fa_forward<float, 64, 64, 1>'));
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
