// flash_common.cuh: what the flash-attention kernels (flash_forward.cuh, flash_backward.cuh,
// flash_simt.cuh) share: the block size, the layout of attention's tensors (mae_flash_layout,
// flash_layout.h: element strides from the ops' declared shapes), loads and
// stores of a storage type as float, bf16 packing, the staging of a row tile into shared memory as
// bf16, the mma.m16n8k16 fragment loads from shared memory (g = lane / 4, t = lane % 4, as PTX's
// fragment tables lay them out) and the opt-in to more than 48 KiB of dynamic shared memory.
#pragma once
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

}  // namespace
