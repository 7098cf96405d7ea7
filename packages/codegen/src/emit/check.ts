// check.ts: emits op_check.cpp, a C++ program over the C ABI that runs every op's variants on a
// device against the CPU backend on fresh random inputs (outputs poisoned first), prints each
// one's relative-norm error, threshold and time, and exits non-zero on any failure. It needs no
// Node.js, so the lent GPU machine can run it as it is; `--device cpu` runs it CPU against CPU.
// The program's body (helpers, argument parsing, the driver) is packages/native/src/check/op_check.h;
// this emits the per-op cases (sizes, dtypes, input ranges, params) and the table main runs.
import { DTYPE_ENUM } from '../ir/dtype.js';
import { type OpDef, resolveDType, variantSuffix } from '../ir/op.js';
import { constrainSizes, inputRange, ODD_SIZES, TEST_PARAMS } from '../ir/test_values.js';
import { cudaVariants, GENERATED_BY } from './signature.js';

/** Realistic sizes per op family (ViT-B/16, batch 64, 224 px, 75% masking, decoder 512 wide). */
const TOKENS = { N: 64, L: 196, LP: 197, J: 49, T: 50, D: 768 };
const BIG: Record<string, Record<string, number>> = {
  matmul_nn: { BT: 768, M: 50, N: 50, K: 64 },
  matmul_nt: { BT: 768, M: 50, N: 50, K: 64 },
  matmul_tn: { BT: 768, M: 50, N: 50, K: 64 },
  matmul_tt: { BT: 768, M: 50, N: 50, K: 64 },
  gather_rows: { B: 64, L: 196, J: 49, D: 768 },
  patchify: { N: 64, C: 3, GH: 14, GW: 14, P: 16, Q: 16 },
  patch_im2col: { N: 64, C: 3, GH: 14, GW: 14, P: 16, Q: 16 },
  image_normalize: { N: 64, H: 224, W: 224, C: 3 },
  add_rows: TOKENS,
  prepend_token: TOKENS,
  unshuffle: { ...TOKENS, D: 512 },
  slice_rows: { N: 64, L: 196, P: 768 },
  qkv_split: { N: 64, T: 50, H: 12, E: 64 },
  swap12: { A: 64, B: 12, C: 50, D: 64 },
  mae_loss: { N: 64, L: 196, P: 768 },
  masked_mean: { N: 64, L: 196 },
  // every trainable parameter of MAE ViT-B/16 (decoder 8 x 512) in one launch: 111.66M elements
  // as 436155 rows of 256 (the ParamStore's flat layout)
  adamw_flat: { R: 436155, C: 256 },
  adamw_flat_bf16: { R: 436155, C: 256 },
  // 800 epochs of ImageNet-1k at batch 1024
  adamw_hyper: { S: 800 * 1251 },
  attention: { N: 64, T: 50, H: 12, E: 64 },
};

/**
 * Sizes whose contiguous dimensions are multiples of 8 (the GEMMs' asynchronous kernels: 16-byte
 * copies; the odd cases take the other kernels): tiles past every edge, a partial last k tile, k
 * shorter than the pipeline's stages, 3 samples (a block loops over two when gridDim.z is 2),
 * split-K, a wgmma ring that wraps under a full tile, and wgmma grids padded to whole clusters.
 */
const GEMM_ALIGNED: Record<string, number>[] = [
  { BT: 3, M: 72, N: 136, K: 200 },
  { BT: 1, M: 8, N: 16, K: 24 },
  // one sample, one output tile, a long k: split-K (4 slices of 9 k tiles, the last of 6); and the
  // same with n not a whole number of 16-byte vectors (42: the split's partials and its second pass
  // one output a thread, where 48 takes their 16-byte forms)
  { BT: 1, M: 40, N: 48, K: 1056 },
  { BT: 1, M: 40, N: 42, K: 1056 },
  // a full 128-row tile (the wgmma consumers' every warp inside the matrix) over 5 k tiles of 64:
  // the 3-stage ring of gemm_wgmma.cuh wraps
  { BT: 1, M: 130, N: 16, K: 320 },
  // wgmma clusters (gemm_wgmma.cuh): four 128-row tiles over 9 k tiles (clusters of 2, or 4 under
  // MAE_WG_CLUSTER=4, with split-K), and 9 tiles of two samples (a grid padded to whole clusters of
  // 2: a block wholly outside the matrix)
  { BT: 1, M: 512, N: 16, K: 576 },
  { BT: 2, M: 1096, N: 24, K: 64 },
  // two 256-column tiles by two 128-row tiles of two samples: clusters of 2 x 2 under
  // MAE_WG_CLUSTER_N=2 (A's tile shared along n too), a partial last k tile
  { BT: 2, M: 256, N: 264, K: 136 },
  // and split-K over two n tiles (clusters of 1 x 2 under MAE_WG_CLUSTER_N=2)
  { BT: 1, M: 40, N: 264, K: 1056 },
];
/** More small cases for ops whose schedules depend on a size (attention: the compiled head sizes). */
const EXTRA: Record<string, Record<string, number>[]> = {
  matmul_nn: GEMM_ALIGNED,
  matmul_nt: GEMM_ALIGNED,
  matmul_tn: GEMM_ALIGNED,
  matmul_tt: GEMM_ALIGNED,
  linear: GEMM_ALIGNED,
  linear_gelu: GEMM_ALIGNED,
  linear_residual: GEMM_ALIGNED,
  linear_gelu_dx: GEMM_ALIGNED,
  // LayerNorm's dweight and dbias over 300 rows: the column reductions split into slices of rows (on
  // the emulated H100 34 slices of 9, 5 blocks of 8), 40 columns a whole number of vectors (16-byte
  // loads: cuda_colsplit.ts)
  // and 2,200 rows of 264: a warp a row where the rows fill the emulated H100 (2 x 8 x 132), 16
  // bytes a lane (whole vectors: cuda_rowvec.ts), 33 vectors a row (a lane's second step)
  layernorm: [
    { M: 300, N: 40 },
    { M: 2200, N: 264 },
  ],
  layernorm_residual: [
    { M: 300, N: 40 },
    { M: 2200, N: 264 },
  ],
  softmax: [{ M: 2200, N: 264 }],
  mae_loss: [{ N: 2, L: 1100, P: 264 }],
  soft_cross_entropy: [{ N: 2200, K: 264 }],
  // the same for a plain column sum (the bias gradients): 2 x 48 outputs, whole vectors, 300 rows;
  // and 1,900 rows: 212 slices, 27 workspace rows, some for each of the join's 8 warps
  sum: [
    { A: 2, R: 300, B: 48 },
    { A: 2, R: 1900, B: 32 },
  ],
  // head size 32 takes two 16-row tiles a warp: 150 tokens are a full and a partial CTA of 128 rows
  attention: [
    { N: 3, T: 50, H: 2, E: 32 },
    { N: 2, T: 150, H: 1, E: 32 },
    { N: 2, T: 197, H: 3, E: 80 },
    { N: 1, T: 7, H: 1, E: 128 },
    { N: 2, T: 65, H: 1, E: 64 },
  ],
};

/**
 * The same with 19 in place of 197, for the ops whose rotation makes one case cost the CUDA
 * emulator (a thread or a block per element or row, each emulated) more than the rest of the
 * suite: attention (197 heads of 33 tokens; its EXTRA cases have sequences of 197 and 65 tokens),
 * the loss (33 x 197 rows of a block each) and the patch layouts (197 images). Before, these four
 * were 60-70% of the emulator's op check under each schedule.
 */
const ODD_19 = ODD_SIZES.map((n) => (n === 197 ? 19 : n));
const ODD_FOR: Record<string, readonly number[]> = {
  attention: ODD_19,
  mae_loss: ODD_19,
  patchify: ODD_19,
  patch_im2col: ODD_19,
};

/** Size cases: odd small ones past tile edges, and (with --big) one realistic ViT-B shape. */
function cases(op: OpDef): { sizes: Record<string, number>; big: boolean }[] {
  const odd = ODD_FOR[op.name.replace(/_(forward|backward)$/, '')] ?? ODD_SIZES;
  const out = [0, 1, 2].map((r) => ({
    sizes: Object.fromEntries(op.sizes.map((s, j) => [s, odd[(r + j) % odd.length]!])),
    big: false,
  }));
  // ViT-B/16 at batch 64 with 75% masking: 64 x 50 tokens of width 768; attention per (image, head)
  const vit: Record<string, number> = {
    M: 3200,
    N: 768,
    K: 768,
    A: 64,
    R: 50,
    B: 768,
    ...BIG[op.name.replace(/_(forward|backward)$/, '')],
  };
  for (const e of EXTRA[op.name.replace(/_(forward|backward)$/, '')] ?? [])
    out.push({ sizes: e, big: false });
  out.push({ sizes: Object.fromEntries(op.sizes.map((s) => [s, vit[s] ?? 1024])), big: true });
  return out.map((c) => ({ ...c, sizes: constrainSizes(op, c.sizes) }));
}

/** How many small cases (run without --big) the checker runs per variant of an op. */
export const smallCheckCases = (op: OpDef): number => cases(op).filter((c) => !c.big).length;

function emitOp(op: OpDef): string {
  const lines: string[] = [`void check_${op.name}(std::mt19937& rng) {`];
  const vs = op.variants;
  lines.push('  const bool cuda = g.dev.type == MAE_DEVICE_CUDA;');
  const tol = op.template?.cudaTolerance;
  const floor = tol ? `, cuda ? ${tol} : 0);` : ');';
  for (const c of cases(op)) {
    for (const v of vs) {
      const onCuda = cudaVariants(op).includes(v);
      const sz = op.sizes.map((s) => `${s}=${c.sizes[s]}`).join(' ');
      lines.push(`  if (${c.big ? 'g.big' : 'true'}${onCuda ? '' : ' && !cuda'}) {`);
      const ts = [...op.outputs, ...op.inputs];
      ts.forEach((t, i) => {
        const shape = t.dims.map((d) => (typeof d === 'number' ? d : c.sizes[d])).join(', ');
        const [lo, hi] = inputRange(t.name, c.sizes);
        lines.push(
          `    Pair t${i}; make(t${i}, "${t.name}", ${DTYPE_ENUM[resolveDType(t.dtype, v)]}, {${shape}}, ${t.role === 'in'}, ${lo}, ${hi}, rng);`,
        );
      });
      const params = op.params.map((p) => String(TEST_PARAMS[p.name] ?? 1));
      const args = (side: 'cpu' | 'dev', stream: string) =>
        [...ts.map((_, i) => `t${i}.${side}`), ...params, stream].join(', ');
      lines.push(
        `    ref_mode(); if (mae_${op.name}(${args('cpu', 'nullptr')})) die("${op.name} on the CPU"); dev_mode();`,
      );
      lines.push(`    mae_stream* s = nullptr; if (mae_stream_create(&s, g.dev)) die("stream");`);
      lines.push(`    if (mae_${op.name}(${args('dev', 's')})) die("${op.name} on the device");`);
      lines.push('    if (mae_stream_synchronize(s)) die("synchronize");');
      lines.push(`    const double us = time_us([&] { return mae_${op.name}(${args('dev', 's')}); }, s);`);
      lines.push('    mae_stream_destroy(s);');
      lines.push(
        `    report("${op.name}", "${variantSuffix(v)}", "${sz}", {${op.outputs.map((_, i) => `&t${i}`).join(', ')}}, us${floor}`,
      );
      lines.push('  }');
    }
  }
  lines.push('}', '');
  return lines.join('\n');
}

export function emitCheck(ops: readonly OpDef[]): string {
  const out = [`// ${GENERATED_BY('op check program')}`, '#include "op_check.h"', ''];
  for (const op of ops) out.push(emitOp(op));
  out.push(
    'int main(int argc, char** argv) {',
    '  static const mae_op_case ops[] = {',
    ...ops.map((op) => `      {"${op.name}", check_${op.name}},`),
    '  };',
    '  return mae_op_check_main(argc, argv, ops, sizeof ops / sizeof ops[0]);',
    '}',
    '',
  );
  return out.join('\n');
}
