// cuda_flash.ts: the CUDA schedule templates of attention_forward and attention_backward
// (ops/flash.ts), flash-attention-2 style on tensor cores: mma.sync m16n8k16 with bf16 operands
// (f32 tensors are rounded to bf16 as they are staged in shared memory) and fp32 accumulators,
// 128 threads = 4 warps x 16 rows. Head sizes 32, 64, 80 and 128 get compile-time instantiations;
// any other size runs the SIMT kernels of cuda_flash_simt.ts. Any sequence length: tails are
// zero-staged and masked.
// Forward: a CTA per (64 query rows, head, sample); K/V tiles of 64 keys staged in shared memory,
// online softmax in fp32 registers (log2 units), lse written out.
// Backward, no atomics: a CTA per (64 keys, head, sample) accumulates dK and dV over every query
// tile; a CTA per (64 query rows, head, sample) accumulates dQ over every key tile. D = rowsum(dO O)
// is computed inline from global memory in both.
import { FLASH_BACKWARD_DEVICE } from './cuda_flash_bwd.js';
import { CUDA_FLASH_SIMT } from './cuda_flash_simt.js';
import type { CudaRenderer } from './render.js';
import type { CudaTemplateOut, TemplateCtx } from './templates.js';

/** Head sizes with tensor-core instantiations. */
export const FLASH_HEAD_SIZES = [32, 64, 80, 128] as const;
const THREADS = 128;

/** Query rows per step of the dK/dV kernel: fewer for wide heads, keeping the accumulators in registers. */
const dkdvRows = (E: number) => (E > 80 ? 32 : 64);
const ld = (E: number) => E + 8;
export const flashSmem = {
  forward: (E: number) => (64 + 2 * 64) * ld(E) * 2,
  dkdv: (E: number) => (2 * 64 + 2 * dkdvRows(E)) * ld(E) * 2 + 2 * dkdvRows(E) * 4,
  dq: (E: number) => 4 * 64 * ld(E) * 2,
};

const DEVICE = `namespace {
constexpr int MAE_FA_THREADS = ${THREADS};
constexpr float MAE_LOG2E = 1.4426950408889634f;
constexpr float MAE_LN2 = 0.6931471805599453f;
__device__ __forceinline__ float mae_ldf(const float* p) { return *p; }
__device__ __forceinline__ float mae_ldf(const __nv_bfloat16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void mae_stf(float* p, float v) { *p = v; }
__device__ __forceinline__ void mae_stf(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
// Two values as one bf16x2 mma operand register, lo in the low half.
__device__ __forceinline__ uint32_t mae_pack2(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}
__device__ __forceinline__ uint32_t mae_pack2(__nv_bfloat16 lo, __nv_bfloat16 hi) {
  return (uint32_t)__bfloat16_as_ushort(lo) | ((uint32_t)__bfloat16_as_ushort(hi) << 16);
}
// Rows [r0, r0 + ROWS) of a matrix whose rows are 'stride' elements apart (E wide) into shared
// [ROWS][E + 8] as bf16; rows at or past T are zero.
template <int ROWS, int E, typename TS>
__device__ __forceinline__ void mae_fa_stage(__nv_bfloat16* s, const TS* g, int64_t stride, int64_t r0, int64_t T) {
  for (int i = threadIdx.x; i < ROWS * E; i += MAE_FA_THREADS) {
    const int r = i / E, c = i - r * E;
    const int64_t row = r0 + r;
    s[r * (E + 8) + c] = __float2bfloat16_rn(row < T ? mae_ldf(g + row * stride + c) : 0.f);
  }
}
// mma fragments (g = lane / 4, t = lane % 4). A: 16 x 16 row-major at rows r0, columns k0 of s.
template <int LD>
__device__ __forceinline__ void mae_fa_a(uint32_t (&a)[4], const __nv_bfloat16* s, int r0, int k0, int g, int t) {
  const __nv_bfloat16* p = s + (r0 + g) * LD + k0 + 2 * t;
  a[0] = *reinterpret_cast<const uint32_t*>(p);
  a[1] = *reinterpret_cast<const uint32_t*>(p + 8 * LD);
  a[2] = *reinterpret_cast<const uint32_t*>(p + 8);
  a[3] = *reinterpret_cast<const uint32_t*>(p + 8 * LD + 8);
}
// B: 16 x 8 with B[k][n] = s[n0 + n][k0 + k] (rows of s are the n index).
template <int LD>
__device__ __forceinline__ void mae_fa_b(uint32_t (&b)[2], const __nv_bfloat16* s, int n0, int k0, int g, int t) {
  const __nv_bfloat16* p = s + (n0 + g) * LD + k0 + 2 * t;
  b[0] = *reinterpret_cast<const uint32_t*>(p);
  b[1] = *reinterpret_cast<const uint32_t*>(p + 8);
}
// B: 16 x 8 with B[k][n] = s[k0 + k][n0 + n] (rows of s are the k index).
template <int LD>
__device__ __forceinline__ void mae_fa_bt(uint32_t (&b)[2], const __nv_bfloat16* s, int k0, int n0, int g, int t) {
  const __nv_bfloat16* p = s + (k0 + 2 * t) * LD + n0 + g;
  b[0] = mae_pack2(p[0], p[LD]);
  b[1] = mae_pack2(p[8 * LD], p[9 * LD]);
}
// A from fp32 accumulators: the 16 x 8 tiles c0 (columns 0-7) and c1 (8-15) as one 16 x 16 tile.
__device__ __forceinline__ void mae_fa_acc_a(uint32_t (&a)[4], const float (&c0)[4], const float (&c1)[4]) {
  a[0] = mae_pack2(c0[0], c0[1]);
  a[1] = mae_pack2(c0[2], c0[3]);
  a[2] = mae_pack2(c1[0], c1[1]);
  a[3] = mae_pack2(c1[2], c1[3]);
}
template <int R, int C> __device__ __forceinline__ void mae_fa_zero(float (&x)[R][C]) {
#pragma unroll
  for (int i = 0; i < R; ++i)
#pragma unroll
    for (int j = 0; j < C; ++j) x[i][j] = 0.f;
}
// Raises a kernel's dynamic shared memory limit past the default 48 KiB when it needs more.
template <typename K> mae_status mae_fa_smem(K* kernel, int bytes, const char* op) {
  if (bytes <= 48 * 1024) return MAE_OK;
  const cudaError_t e = cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  return e == cudaSuccess ? MAE_OK : mae_fail("%s: %d bytes of shared memory: %s", op, bytes, cudaGetErrorString(e));
}

// Forward: a CTA per (64 query rows, head h, samples n = blockIdx.z + k gridDim.z).
template <typename TS, int E, int BN>
__device__ __forceinline__ void mae_fa_forward(TS* __restrict__ out, float* __restrict__ lse, const TS* __restrict__ qkv,
                                               float scale, int64_t N, int64_t T, int64_t H) {
  constexpr int BM = 64, LD = E + 8, NE = E / 8, NS = BN / 8;
  MAE_DYNAMIC_SHARED(16, unsigned char, mae_fa_smem_raw);
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(mae_fa_smem_raw);
  __nv_bfloat16* Ks = Qs + BM * LD;
  __nv_bfloat16* Vs = Ks + BN * LD;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int64_t h = blockIdx.y, q0 = (int64_t)blockIdx.x * BM, rs = 3 * H * E;
  const float sl2 = scale * MAE_LOG2E;
  for (int64_t n = blockIdx.z; n < N; n += gridDim.z) {
    const TS* qb = qkv + n * T * rs + h * E;
    __syncthreads();
    mae_fa_stage<BM, E>(Qs, qb, rs, q0, T);
    float o[NE][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
    mae_fa_zero(o);
    for (int64_t k0 = 0; k0 < T; k0 += BN) {
      __syncthreads();
      mae_fa_stage<BN, E>(Ks, qb + H * E, rs, k0, T);
      mae_fa_stage<BN, E>(Vs, qb + 2 * H * E, rs, k0, T);
      __syncthreads();
      float s[NS][4];
      mae_fa_zero(s);
#pragma unroll
      for (int kk = 0; kk < E; kk += 16) {
        uint32_t a[4];
        mae_fa_a<LD>(a, Qs, warp * 16, kk, g, t);
#pragma unroll
        for (int j = 0; j < NS; ++j) {
          uint32_t b[2];
          mae_fa_b<LD>(b, Ks, j * 8, kk, g, t);
          mae_mma_bf16_16816(s[j], a, b);
        }
      }
      // scores in log2 units, keys past T masked; this thread holds rows g (c < 2) and g + 8
      float mx[2] = {m[0], m[1]};
#pragma unroll
      for (int j = 0; j < NS; ++j)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          s[j][c] = k0 + j * 8 + 2 * t + (c & 1) < T ? s[j][c] * sl2 : -INFINITY;
          mx[c >> 1] = fmaxf(mx[c >> 1], s[j][c]);
        }
      float corr[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        corr[r] = exp2f(m[r] - mx[r]);
        m[r] = mx[r];
        l[r] *= corr[r];
      }
#pragma unroll
      for (int j = 0; j < NS; ++j)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          s[j][c] = exp2f(s[j][c] - m[c >> 1]);
          l[c >> 1] += s[j][c];
        }
#pragma unroll
      for (int i = 0; i < NE; ++i) {
        o[i][0] *= corr[0];
        o[i][1] *= corr[0];
        o[i][2] *= corr[1];
        o[i][3] *= corr[1];
      }
#pragma unroll
      for (int kk = 0; kk < NS / 2; ++kk) {
        uint32_t a[4];
        mae_fa_acc_a(a, s[2 * kk], s[2 * kk + 1]);
#pragma unroll
        for (int i = 0; i < NE; ++i) {
          uint32_t b[2];
          mae_fa_bt<LD>(b, Vs, kk * 16, i * 8, g, t);
          mae_mma_bf16_16816(o[i], a, b);
        }
      }
    }
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
      l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
      inv[r] = 1.f / l[r];
    }
    const int64_t r0 = q0 + warp * 16 + g;
#pragma unroll
    for (int i = 0; i < NE; ++i)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int64_t row = r0 + (c >> 1) * 8;
        if (row < T) mae_stf(out + ((n * T + row) * H + h) * E + i * 8 + 2 * t + (c & 1), o[i][c] * inv[c >> 1]);
      }
    if (t == 0) {
      if (r0 < T) lse[(n * H + h) * T + r0] = (m[0] + log2f(l[0])) * MAE_LN2;
      if (r0 + 8 < T) lse[(n * H + h) * T + r0 + 8] = (m[1] + log2f(l[1])) * MAE_LN2;
    }
  }
}

${FLASH_BACKWARD_DEVICE}
}  // namespace
`;

export const CUDA_FLASH_SHARED = {
  key: 'flash',
  text: `// ---- flash attention device code (attention_forward, attention_backward)\n${DEVICE}\n${CUDA_FLASH_SIMT}`,
};

/**
 * One kernel wrapper (a concrete name for ptxas and profilers) around a device template. minBlocks
 * 1, as the GEMMs: with the default bounds ptxas spilled a few bytes even in the 96-register kernels.
 */
function wrapper(name: string, params: string, call: string): string {
  return `__global__ void __launch_bounds__(${THREADS}, 1) ${name}(${params}) {\n  ${call};\n}`;
}

/** The launch of a kernel with its dynamic shared memory, grid and arguments. */
function launch(name: string, grid: string, smem: string, args: string): string[] {
  return [
    `      if (mae_fa_smem(${name}, (int)(${smem}), OP)) return MAE_ERROR;`,
    `      MAE_LAUNCH(${name}, ${grid}, ${THREADS}, (size_t)(${smem}), _st, ${args});`,
  ];
}

/** The launcher body: a compile-time head size's kernels, or the SIMT ones for any other. */
function dispatch(cases: { E: number; body: string[] }[], fallback: string[]): string[] {
  return [
    '  if (N > 0 && T > 0 && H > 0) {',
    '    const int64_t _zmax = mae_max_grid_z(device);',
    '    const unsigned _gz = (unsigned)(N < _zmax ? N : _zmax);',
    '    const dim3 _tiles((unsigned)((T + 63) / 64), (unsigned)H, _gz), _rows((unsigned)T, (unsigned)H, _gz);',
    '    switch (E) {',
    ...cases.flatMap((c) => [`    case ${c.E}: {`, ...c.body, '      break;', '    }']),
    '    default: {',
    ...fallback,
    '    }',
    '    }',
    '    if (mae_launched(OP)) return MAE_ERROR;',
    '  }',
  ];
}

export function cudaFlashForward(ctx: TemplateCtx<CudaRenderer>, prefix: string): CudaTemplateOut {
  const TS = ctx.r.storage(ctx.dtype('out'));
  const params = `${TS}* __restrict__ out, float* __restrict__ lse, const ${TS}* __restrict__ qkv, float scale, int64_t N, int64_t T, int64_t H`;
  const args = 'out_k, lse_k, qkv_k, scale_k, N, T, H';
  const kernels: string[] = [];
  const cases = FLASH_HEAD_SIZES.map((E) => {
    const name = `${prefix}_e${E}`;
    kernels.push(wrapper(name, params, `mae_fa_forward<${TS}, ${E}, 64>(out, lse, qkv, scale, N, T, H)`));
    return { E, body: launch(name, '_tiles', String(flashSmem.forward(E)), args) };
  });
  const simt = `${prefix}_simt`;
  kernels.push(
    wrapper(simt, `${params}, int64_t E`, `mae_fa_forward_simt<${TS}>(out, lse, qkv, scale, N, T, H, E)`),
  );
  const fallback = launch(simt, '_rows', `(2 * E + MAE_FA_THREADS) * sizeof(float)`, `${args}, E`);
  return { kernels: kernels.join('\n'), launch: dispatch(cases, fallback) };
}

export function cudaFlashBackward(ctx: TemplateCtx<CudaRenderer>, prefix: string): CudaTemplateOut {
  const TS = ctx.r.storage(ctx.dtype('dqkv'));
  const params = `${TS}* __restrict__ dqkv, const ${TS}* __restrict__ dout, const ${TS}* __restrict__ qkv, const ${TS}* __restrict__ out, const float* __restrict__ lse, float scale, int64_t N, int64_t T, int64_t H`;
  const fwd = 'dqkv, dout, qkv, out, lse, scale, N, T, H';
  const args = 'dqkv_k, dout_k, qkv_k, out_k, lse_k, scale_k, N, T, H';
  const kernels: string[] = [];
  const cases = FLASH_HEAD_SIZES.map((E) => {
    const [kv, q] = [`${prefix}_dkdv_e${E}`, `${prefix}_dq_e${E}`];
    kernels.push(wrapper(kv, params, `mae_fa_dkdv<${TS}, ${E}, ${dkdvRows(E)}>(${fwd})`));
    kernels.push(wrapper(q, params, `mae_fa_dq<${TS}, ${E}, 64>(${fwd})`));
    return {
      E,
      body: [
        ...launch(kv, '_tiles', String(flashSmem.dkdv(E)), args),
        ...launch(q, '_tiles', String(flashSmem.dq(E)), args),
      ],
    };
  });
  const [kv, q] = [`${prefix}_dkdv_simt`, `${prefix}_dq_simt`];
  kernels.push(wrapper(kv, `${params}, int64_t E`, `mae_fa_dkdv_simt<${TS}>(${fwd}, E)`));
  kernels.push(wrapper(q, `${params}, int64_t E`, `mae_fa_dq_simt<${TS}>(${fwd}, E)`));
  const fallback = [
    ...launch(kv, '_rows', '(4 * E + 2 * MAE_FA_THREADS) * sizeof(float)', `${args}, E`),
    ...launch(q, '_rows', '(3 * E + MAE_FA_THREADS) * sizeof(float)', `${args}, E`),
  ];
  return { kernels: kernels.join('\n'), launch: dispatch(cases, fallback) };
}
