// flash_common.cuh: what the flash-attention kernels (flash_forward.cuh, flash_backward.cuh,
// flash_simt.cuh) share: the block size, the layout of attention's tensors (mae_flash_layout,
// flash_layout.h: element strides from the ops' declared shapes), loads and
// stores of a storage type as float, bf16 packing, the staging of a row tile into shared memory as
// bf16 (at once, or by cp.async to overlap the next tile's loads with this one's work), the mma.m16n8k16 fragment loads from shared memory (g = lane / 4, t = lane % 4, as PTX's
// fragment tables lay them out), the accumulator tiles' coalesced stores and the opt-in to more than 48 KiB of dynamic shared memory.
#pragma once
#include "async_copy.cuh"   // mae_ldmatrix_x4, mae_cp_async16
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
// The most 4-byte words any bank serves in one phase (8 lanes) of a warp's 16-byte stores into
// shared [rows][E + 8] bf16, lane l taking 16-byte chunk l % CPR of row l / CPR (CPR = E / 8
// chunks a row), or with rows fastest (row l % (32 / CPR), chunk l / (32 / CPR)): 1 is
// conflict-free. At E = 32 (rows of 16 words at a pitch of 20) the first puts two rows in a phase
// whose words share banks 0-3; eight rows at one chunk sit at 20 r mod 32, all apart.
template <int E>
constexpr int mae_fa_stage_wavefronts(bool rows_fast) {
  constexpr int CPR = E / 8, PITCH = (E + 8) / 2;
  int worst = 0;
  for (int phase = 0; phase < 4; ++phase) {
    int hits[32] = {};
    for (int l = phase * 8; l < phase * 8 + 8; ++l) {
      const int r = rows_fast ? l % (32 / CPR) : l / CPR, c = rows_fast ? l / (32 / CPR) : l % CPR;
      for (int k = 0; k < 4; ++k) ++hits[(r * PITCH + c * 4 + k) % 32];
    }
    for (int b = 0; b < 32; ++b) worst = hits[b] > worst ? hits[b] : worst;
  }
  return worst;
}
static_assert(mae_fa_stage_wavefronts<32>(false) == 2 && mae_fa_stage_wavefronts<32>(true) == 1,
              "head size 32: rows fastest is the conflict-free staging order");
static_assert(mae_fa_stage_wavefronts<64>(false) == 1 && mae_fa_stage_wavefronts<128>(false) == 1,
              "head sizes 64 and 128: a row a phase is conflict-free");
// Rows [r0, r0 + ROWS) of a matrix whose rows are 'stride' elements apart (E wide) into shared
// [ROWS][E + 8] as bf16; rows at or past T are zero. Eight elements a thread at a time (16-byte
// loads and stores) where every row starts 16-byte aligned (mae_fa_wide), else one at a time. A
// warp's 32 chunks cover whole rows either way (a warp's global loads stay whole sectors); they go
// rows fastest where that has fewer bank conflicts (mae_fa_stage_wavefronts): chunk i is 16-byte
// column c of row r (mae_fa_chunk).
template <typename TS> __device__ __forceinline__ bool mae_fa_wide(const TS* g, int64_t stride) {
  return reinterpret_cast<uintptr_t>(g) % 16 == 0 && (stride * sizeof(TS)) % 16 == 0;
}
template <int ROWS, int E> __device__ __forceinline__ void mae_fa_chunk(int i, int& r, int& c) {
  constexpr int CPR = E / 8, RPW = 32 / CPR;
  constexpr bool kRowsFast = 32 % CPR == 0 && ROWS % RPW == 0 &&
                             mae_fa_stage_wavefronts<E>(true) < mae_fa_stage_wavefronts<E>(false);
  const int l = i % 32;
  r = kRowsFast ? i / 32 * RPW + l % RPW : i / CPR;
  c = (kRowsFast ? l / RPW : i - r * CPR) * 8;
}
template <int ROWS, int E, typename TS>
__device__ __forceinline__ void mae_fa_stage(__nv_bfloat16* s, const TS* g, int64_t stride, int64_t r0, int64_t T) {
  static_assert(E % 8 == 0, "flash attention stages rows of a multiple of 8 elements");
  if (mae_fa_wide(g, stride)) {
    for (int i = threadIdx.x; i < ROWS * E / 8; i += MAE_FA_THREADS) {
      int r, c;
      mae_fa_chunk<ROWS, E>(i, r, c);
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
// The same rows, issued as 16-byte cp.async copies where the tensor is bf16 with 16-byte aligned
// rows (rows at or past T zero-filled, naming the first row's address): they land in shared memory
// by the mae_cp_async_wait that covers the thread's next commit, so that the staging of the next
// tile overlaps the work on this one. f32 tensors (rounded to bf16 as they are staged) and
// unaligned rows are staged at once as by mae_fa_stage.
template <int ROWS, int E, typename TS>
__device__ __forceinline__ void mae_fa_stage_async(__nv_bfloat16* s, const TS* g, int64_t stride, int64_t r0, int64_t T) {
  if constexpr (sizeof(TS) == 2) {
    if (mae_fa_wide(g, stride)) {
      for (int i = threadIdx.x; i < ROWS * E / 8; i += MAE_FA_THREADS) {
        int r, c;
        mae_fa_chunk<ROWS, E>(i, r, c);
        const int64_t row = r0 + r;
        const bool in = row < T;
        mae_cp_async16(s + r * (E + 8) + c, in ? g + row * stride + c : g + r0 * stride, in ? 16 : 0);
      }
      return;
    }
  }
  mae_fa_stage<ROWS, E>(s, g, stride, r0, T);
}
// D = rowsum(dO O) of attention's backward, a warp's 32 / CPR rows at a time (CPR = E / 8 lanes a
// row): each lane loads 16 bytes of both tensors (all of a call's loads in flight together), then the
// row's lanes add their sums (xor shuffles); lane l gets the sum of row row0 + l / CPR (0 past T).
// For bf16 rows 16-byte aligned (mae_fa_rowdot_ok) at head sizes whose CPR divides 32 and the rows
// asked for (mae_fa_rowdot_fits); the kernels fall back to a lane-strided loop otherwise.
template <int E> constexpr bool mae_fa_rowdot_fits(int rows) {
  return E / 8 <= 32 && 32 % (E / 8) == 0 && rows % (32 / (E / 8)) == 0;
}
template <typename TS> __device__ __forceinline__ bool mae_fa_rowdot_ok(const TS* dob, const TS* ob, int64_t os) {
  return sizeof(TS) == 2 && mae_fa_wide(dob, os) && mae_fa_wide(ob, os);
}
template <int E, typename TS>
__device__ __forceinline__ float mae_fa_rowdot(const TS* dob, const TS* ob, int64_t os, int64_t row0, int64_t T) {
  constexpr int CPR = E / 8;
  const int lane = threadIdx.x & 31;
  const int64_t row = row0 + lane / CPR;
  float d = 0.f;
  if constexpr (sizeof(TS) == 2) {
    if (row < T) {
      float a[8], b[8];
      mae_ld_vec(a, dob + row * os + (lane % CPR) * 8);
      mae_ld_vec(b, ob + row * os + (lane % CPR) * 8);
#pragma unroll
      for (int i = 0; i < 8; ++i) d += a[i] * b[i];
    }
  }
#pragma unroll
  for (int m = 1; m < CPR; m <<= 1) d += __shfl_xor_sync(0xffffffffu, d, m);
  return d;
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
// Row `row` (rows `stride` elements apart from `base`) of a warp's 16-row accumulator tiles, times
// mul, to global memory: x[i][c0] and x[i][c0 + 1] are columns 8i + 2t and 8i + 2t + 1 (c0 = 0:
// the lane's row g, 2: row g + 8); `ok`: this lane's row is stored. Every lane of the warp calls it
// with the same base and stride (the bf16 path exchanges values within each quad). f32: 8-byte
// pairs, a quad's four lanes covering one 32-byte sector of each tile. bf16: a 4 x 4 transpose in
// each quad (two rounds of xor shuffles) gives lane t the 8 columns of tile i + t, one 16-byte store,
// so that the quad writes 64 contiguous bytes; 4-byte pairs where rows are not 16-byte aligned and
// for the last NE % 4 tiles.
template <int NE>
__device__ __forceinline__ void mae_fa_store_row(float* base, int64_t row, int64_t stride, const float (&x)[NE][4], int c0,
                                                 float mul, int t, bool ok) {
  float* r = base + row * stride;
  const bool pairs = reinterpret_cast<uintptr_t>(base) % 8 == 0 && stride % 2 == 0;
#pragma unroll
  for (int i = 0; i < NE; ++i) {
    if (!ok) continue;
    if (pairs) {
      mae_st8(r + i * 8 + 2 * t, x[i][c0] * mul, x[i][c0 + 1] * mul);
    } else {
      r[i * 8 + 2 * t] = x[i][c0] * mul;
      r[i * 8 + 2 * t + 1] = x[i][c0 + 1] * mul;
    }
  }
}
// One round of a quad's 4 x 4 transpose (mae_fa_store_row): of the slots (lo, hi) = (k, k + m), lane
// t keeps the one whose bit m equals t's and takes the other from lane t ^ m, which sends the slot it
// does not keep.
__device__ __forceinline__ void mae_fa_swap(uint32_t& lo, uint32_t& hi, int m, int t) {
  const bool upper = (t & m) != 0;
  const uint32_t v = __shfl_xor_sync(0xffffffffu, upper ? lo : hi, m);
  if (upper)
    lo = v;
  else
    hi = v;
}
template <int NE>
__device__ __forceinline__ void mae_fa_store_row(__nv_bfloat16* base, int64_t row, int64_t stride, const float (&x)[NE][4],
                                                 int c0, float mul, int t, bool ok) {
  __nv_bfloat16* r = base + row * stride;
  uint32_t p[NE];
#pragma unroll
  for (int i = 0; i < NE; ++i) p[i] = mae_pack2(x[i][c0] * mul, x[i][c0 + 1] * mul);
  const bool wide = reinterpret_cast<uintptr_t>(base) % 16 == 0 && stride % 8 == 0;
  if (wide) {
#pragma unroll
    for (int i = 0; i + 4 <= NE; i += 4) {
      uint32_t q[4] = {p[i], p[i + 1], p[i + 2], p[i + 3]};  // slot e: tile i + e of lane t's columns
      mae_fa_swap(q[0], q[1], 1, t);
      mae_fa_swap(q[2], q[3], 1, t);
      mae_fa_swap(q[0], q[2], 2, t);
      mae_fa_swap(q[1], q[3], 2, t);
      if (ok) mae_st16(r + (i + t) * 8, q);  // slot e: lane e's pair of tile i + t
    }
  }
#pragma unroll
  for (int i = wide ? NE / 4 * 4 : 0; i < NE; ++i)
    if (ok) *reinterpret_cast<uint32_t*>(r + i * 8 + 2 * t) = p[i];
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
