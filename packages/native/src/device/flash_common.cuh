// flash_common.cuh: what the flash-attention kernels (flash_forward.cuh, flash_backward.cuh,
// flash_simt.cuh) share: the block size, the layout of attention's tensors (mae_flash_layout,
// flash_layout.h: element strides from the ops' declared shapes), loads and
// stores of a storage type as float, bf16 packing, the staging of a row tile into shared memory as
// bf16, the mma.m16n8k16 fragment loads from shared memory (g = lane / 4, t = lane % 4, as PTX's
// fragment tables lay them out) and the opt-in to more than 48 KiB of dynamic shared memory.
#pragma once
#include "async_copy.cuh"   // mae_ldmatrix_x4
#include "flash_layout.h"  // mae_flash_layout (src/cpu: shared with the CPU templates)

namespace {
constexpr int MAE_FA_THREADS = 128;
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
// Eight consecutive elements of global memory as bf16 pairs (one 16-byte shared store): two 16-byte
// loads of f32, one of bf16 (mae_ld16, mae_device.cuh); `p` 16-byte aligned.
__device__ __forceinline__ void mae_fa_ld8(uint32_t (&r)[4], const float* p) {
  float a[4], b[4];
  mae_ld16(a, p);
  mae_ld16(b, p + 4);
  r[0] = mae_pack2(a[0], a[1]), r[1] = mae_pack2(a[2], a[3]), r[2] = mae_pack2(b[0], b[1]), r[3] = mae_pack2(b[2], b[3]);
}
__device__ __forceinline__ void mae_fa_ld8(uint32_t (&r)[4], const __nv_bfloat16* p) { mae_ld16(r, p); }
// Rows [r0, r0 + ROWS) of a matrix whose rows are 'stride' elements apart (E wide) into shared
// [ROWS][E + 8] as bf16; rows at or past T are zero. Eight elements a thread at a time (16-byte
// loads and stores) where every row starts 16-byte aligned, else one at a time.
template <int ROWS, int E, typename TS>
__device__ __forceinline__ void mae_fa_stage(__nv_bfloat16* s, const TS* g, int64_t stride, int64_t r0, int64_t T) {
  static_assert(E % 8 == 0, "flash attention stages rows of a multiple of 8 elements");
  if (reinterpret_cast<uintptr_t>(g) % 16 == 0 && (stride * sizeof(TS)) % 16 == 0) {
    for (int i = threadIdx.x; i < ROWS * E / 8; i += MAE_FA_THREADS) {
      const int r = i / (E / 8), c = (i - r * (E / 8)) * 8;
      const int64_t row = r0 + r;
      uint32_t v[4] = {0, 0, 0, 0};
      if (row < T) mae_fa_ld8(v, g + row * stride + c);
      mae_st16(s + r * (E + 8) + c, v);
    }
    return;
  }
  for (int i = threadIdx.x; i < ROWS * E; i += MAE_FA_THREADS) {
    const int r = i / E, c = i - r * E;
    const int64_t row = r0 + r;
    s[r * (E + 8) + c] = __float2bfloat16_rn(row < T ? mae_ldf(g + row * stride + c) : 0.f);
  }
}
// mma fragments, by ldmatrix (async_copy.cuh) from rows 16-byte aligned (LD a multiple of 8). A:
// 16 x 16 row-major at rows r0, columns k0 of s (lanes 0-15 name rows r0..r0+15 at k0, 16-31 the
// same rows at k0 + 8).
template <int LD>
__device__ __forceinline__ void mae_fa_a(uint32_t (&a)[4], const __nv_bfloat16* s, int r0, int k0) {
  const int l = threadIdx.x & 31;
  mae_ldmatrix_x4<false>(a, s + (r0 + (l & 15)) * LD + k0 + (l >> 4) * 8);
}
// Two B tiles, 16 x 8 each, B[k][n] = s[n0 + n][k0 + k] (rows of s are the n index): b0 at n0,
// b1 at n0 + 8 (lanes 0-7 and 8-15 name rows n0.. at k0 and k0 + 8, 16-31 rows n0 + 8.. likewise).
template <int LD>
__device__ __forceinline__ void mae_fa_b2(uint32_t (&b0)[2], uint32_t (&b1)[2], const __nv_bfloat16* s, int n0, int k0) {
  const int l = threadIdx.x & 31;
  uint32_t r[4];
  mae_ldmatrix_x4<false>(r, s + (n0 + (l & 7) + (l >> 4) * 8) * LD + k0 + ((l >> 3) & 1) * 8);
  b0[0] = r[0], b0[1] = r[1], b1[0] = r[2], b1[1] = r[3];
}
// Two B tiles, 16 x 8 each, B[k][n] = s[k0 + k][n0 + n] (rows of s are the k index), transposed
// by ldmatrix: b0 at n0, b1 at n0 + 8 (lanes 0-15 name rows k0..k0+15 at n0, 16-31 at n0 + 8).
template <int LD>
__device__ __forceinline__ void mae_fa_bt2(uint32_t (&b0)[2], uint32_t (&b1)[2], const __nv_bfloat16* s, int k0, int n0) {
  const int l = threadIdx.x & 31;
  uint32_t r[4];
  mae_ldmatrix_x4<true>(r, s + (k0 + (l & 15)) * LD + n0 + (l >> 4) * 8);
  b0[0] = r[0], b0[1] = r[1], b1[0] = r[2], b1[1] = r[3];
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

}  // namespace
