// cuda_gemm.ts: the CUDA schedules of a contraction: a tensor-core kernel (mma.sync m16n8k16,
// bf16 operands staged in shared memory, fp32 accumulators) in two tile configurations chosen by
// shape, and an fp32 SIMT tiled kernel for f32 operands. Both run the op's epilogue on the
// accumulators, so bias, GELU and residual adds are fused.
import type { IndexVar } from '../ir/expr.js';
import type { Contraction } from '../lower/lower.js';

export interface MmaConfig {
  readonly BM: number;
  readonly BN: number;
  readonly BK: number;
  readonly WM: number; // warps along M
  readonly WN: number; // warps along N
}
export const MMA_CONFIGS: readonly MmaConfig[] = [
  { BM: 64, BN: 64, BK: 32, WM: 2, WN: 2 },
  { BM: 128, BN: 128, BK: 32, WM: 2, WN: 4 },
];

export interface GemmCtx {
  w(s: string): void;
  indent(d: number): void;
  ext(v: IndexVar): string;
  prod(vars: readonly IndexVar[]): string;
  decompose(vars: readonly IndexVar[], flat: string): void;
  value(n: Contraction['a']): string;
  epilogue(): void;
  args: string;
}

function header(g: GemmCtx, c: Contraction, name: string, threads: number) {
  // minBlocks 1: let ptxas use the registers the accumulators need rather than spill
  g.w(`__global__ void __launch_bounds__(${threads}, 1) ${name}(${g.args}) {`);
  g.indent(1);
  g.w(
    `const int64_t _BATCH = ${g.prod(c.batch)}, _M = ${g.ext(c.m)}, _N = ${g.ext(c.n)}, _K = ${g.prod(c.kvars)};`,
  );
}

/** Stages a [rows x BK] tile of operand `which` (rows along m or n) into smem as element type. */
function stage(
  g: GemmCtx,
  c: Contraction,
  which: 'a' | 'b',
  rows: number,
  BK: number,
  threads: number,
  smem: string,
  conv: (v: string) => string,
  kMajor: boolean,
) {
  const rowVar = which === 'a' ? c.m : c.n;
  const rowExt = which === 'a' ? '_M' : '_N';
  const row0 = which === 'a' ? '_m0' : '_n0';
  g.w(`for (int _e = threadIdx.x; _e < ${rows * BK}; _e += ${threads}) {`);
  g.indent(1);
  g.w(`const int _r = _e / ${BK}, _q = _e % ${BK};`);
  g.w(`const int64_t ${rowVar.name} = ${row0} + _r, _kf = _k0 + _q;`);
  g.w('float _v = 0.f;');
  g.w(`if (${rowVar.name} < ${rowExt} && _kf < _K) {`);
  g.indent(1);
  g.decompose(c.kvars, '_kf');
  g.w(`_v = ${g.value(which === 'a' ? c.a : c.b)};`);
  g.indent(-1);
  g.w('}');
  g.w(kMajor ? `${smem}[_r][_q] = ${conv('_v')};` : `${smem}[_q][_r] = ${conv('_v')};`);
  g.indent(-1);
  g.w('}');
}

export function emitMmaKernel(g: GemmCtx, c: Contraction, name: string, cfg: MmaConfig) {
  const { BM, BN, BK, WM, WN } = cfg;
  const NT = 32 * WM * WN;
  const TM = BM / WM;
  const TN = BN / WN;
  const MI = TM / 16;
  const NI = TN / 8;
  header(g, c, name, NT);
  g.w(`MAE_SHARED_ALIGNED(16, __nv_bfloat16, _As, [${BM}][${BK + 8}]);`);
  g.w(`MAE_SHARED_ALIGNED(16, __nv_bfloat16, _Bs, [${BN}][${BK + 8}]);`);
  g.w('const int _lane = threadIdx.x & 31, _warp = threadIdx.x >> 5;');
  g.w(`const int _wm = _warp / ${WN}, _wn = _warp % ${WN}, _g = _lane >> 2, _t = _lane & 3;`);
  g.w('for (int64_t _bb = blockIdx.z; _bb < _BATCH; _bb += gridDim.z) {');
  g.indent(1);
  if (c.batch.length) g.decompose(c.batch, '_bb');
  g.w(`const int64_t _m0 = (int64_t)blockIdx.y * ${BM}, _n0 = (int64_t)blockIdx.x * ${BN};`);
  g.w(`float _c[${MI}][${NI}][4];`);
  g.w(`#pragma unroll`);
  g.w(
    `for (int _i = 0; _i < ${MI}; ++_i) for (int _j = 0; _j < ${NI}; ++_j) for (int _h = 0; _h < 4; ++_h) _c[_i][_j][_h] = 0.f;`,
  );
  g.w(`for (int64_t _k0 = 0; _k0 < _K; _k0 += ${BK}) {`);
  g.indent(1);
  const bf = (v: string) => `__float2bfloat16_rn(${v})`;
  stage(g, c, 'a', BM, BK, NT, '_As', bf, true);
  stage(g, c, 'b', BN, BK, NT, '_Bs', bf, true);
  g.w('__syncthreads();');
  g.w('#pragma unroll');
  g.w(`for (int _kk = 0; _kk < ${BK}; _kk += 16) {`);
  g.indent(1);
  g.w(`uint32_t _af[${MI}][4], _bf[${NI}][2];`);
  g.w('#pragma unroll');
  g.w(`for (int _i = 0; _i < ${MI}; ++_i) {`);
  g.w(`  const int _ar = _wm * ${TM} + _i * 16 + _g;`);
  g.w('  _af[_i][0] = *reinterpret_cast<const uint32_t*>(&_As[_ar][_kk + 2 * _t]);');
  g.w('  _af[_i][1] = *reinterpret_cast<const uint32_t*>(&_As[_ar + 8][_kk + 2 * _t]);');
  g.w('  _af[_i][2] = *reinterpret_cast<const uint32_t*>(&_As[_ar][_kk + 2 * _t + 8]);');
  g.w('  _af[_i][3] = *reinterpret_cast<const uint32_t*>(&_As[_ar + 8][_kk + 2 * _t + 8]);');
  g.w('}');
  g.w('#pragma unroll');
  g.w(`for (int _j = 0; _j < ${NI}; ++_j) {`);
  g.w(`  const int _bc = _wn * ${TN} + _j * 8 + _g;`);
  g.w('  _bf[_j][0] = *reinterpret_cast<const uint32_t*>(&_Bs[_bc][_kk + 2 * _t]);');
  g.w('  _bf[_j][1] = *reinterpret_cast<const uint32_t*>(&_Bs[_bc][_kk + 2 * _t + 8]);');
  g.w('}');
  g.w('#pragma unroll');
  g.w(`for (int _i = 0; _i < ${MI}; ++_i)`);
  g.w('#pragma unroll');
  g.w(`  for (int _j = 0; _j < ${NI}; ++_j) mae_mma_bf16_16816(_c[_i][_j], _af[_i], _bf[_j]);`);
  g.indent(-1);
  g.w('}');
  g.w('__syncthreads();');
  g.indent(-1);
  g.w('}');
  g.w('#pragma unroll');
  g.w(`for (int _i = 0; _i < ${MI}; ++_i)`);
  g.w('#pragma unroll');
  g.w(`for (int _j = 0; _j < ${NI}; ++_j)`);
  g.w('#pragma unroll');
  g.w('for (int _h = 0; _h < 4; ++_h) {');
  g.indent(1);
  g.w(`const int64_t ${c.m.name} = _m0 + _wm * ${TM} + _i * 16 + _g + (_h >> 1) * 8;`);
  g.w(`const int64_t ${c.n.name} = _n0 + _wn * ${TN} + _j * 8 + 2 * _t + (_h & 1);`);
  g.w(`if (${c.m.name} < _M && ${c.n.name} < _N) {`);
  g.indent(1);
  g.w(`const float ${c.acc} = _c[_i][_j][_h];`);
  g.epilogue();
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
}

/** fp32 SIMT tiled GEMM: 64x64 tiles, 256 threads, 4x4 outputs per thread. */
export function emitSimtKernel(g: GemmCtx, c: Contraction, name: string, ct: string) {
  const BM = 64;
  const BN = 64;
  const BK = 16;
  header(g, c, name, 256);
  g.w(`MAE_SHARED(${ct}, _As, [${BK}][${BM + 4}]);`);
  g.w(`MAE_SHARED(${ct}, _Bs, [${BK}][${BN + 4}]);`);
  g.w('const int _tx = threadIdx.x % 16, _ty = threadIdx.x / 16;');
  g.w('for (int64_t _bb = blockIdx.z; _bb < _BATCH; _bb += gridDim.z) {');
  g.indent(1);
  if (c.batch.length) g.decompose(c.batch, '_bb');
  g.w(`const int64_t _m0 = (int64_t)blockIdx.y * ${BM}, _n0 = (int64_t)blockIdx.x * ${BN};`);
  g.w(`${ct} _c[4][4];`);
  g.w(`for (int _i = 0; _i < 4; ++_i) for (int _j = 0; _j < 4; ++_j) _c[_i][_j] = (${ct})0;`);
  g.w(`for (int64_t _k0 = 0; _k0 < _K; _k0 += ${BK}) {`);
  g.indent(1);
  const id = (v: string) => `(${ct})${v}`;
  stage(g, c, 'a', BM, BK, 256, '_As', id, false);
  stage(g, c, 'b', BN, BK, 256, '_Bs', id, false);
  g.w('__syncthreads();');
  g.w('#pragma unroll');
  g.w(`for (int _q = 0; _q < ${BK}; ++_q) {`);
  g.w(`  ${ct} _a[4], _b[4];`);
  g.w(
    '  for (int _i = 0; _i < 4; ++_i) { _a[_i] = _As[_q][_ty + 16 * _i]; _b[_i] = _Bs[_q][_tx + 16 * _i]; }',
  );
  g.w(
    '  for (int _i = 0; _i < 4; ++_i) for (int _j = 0; _j < 4; ++_j) _c[_i][_j] = fma(_a[_i], _b[_j], _c[_i][_j]);',
  );
  g.w('}');
  g.w('__syncthreads();');
  g.indent(-1);
  g.w('}');
  g.w('for (int _i = 0; _i < 4; ++_i) for (int _j = 0; _j < 4; ++_j) {');
  g.indent(1);
  g.w(`const int64_t ${c.m.name} = _m0 + _ty + 16 * _i, ${c.n.name} = _n0 + _tx + 16 * _j;`);
  g.w(`if (${c.m.name} < _M && ${c.n.name} < _N) {`);
  g.indent(1);
  g.w(`const ${ct} ${c.acc} = _c[_i][_j];`);
  g.epilogue();
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
}
