// gemm_async.cuh: the tensor-core GEMM of contraction kernels whose operands are plain bf16 tensors
// (rows and k tiles addressable, the contiguous axis a multiple of 8 elements, 16-byte aligned):
// C[b] (M x N) = A[b] (M x K) times B[b] (N x K)^T in BM x BN x 32 block tiles, as gemm.cuh's
// mae_gemm_mma computes it, with the sm_80 data path (async_copy.cuh):
//   - each operand's k tile staged along its contiguous axis with 16-byte cp.async copies (k rows of
//     8 row elements when the operand is contiguous along its rows, ARow / BRow; rows of 8 k
//     elements otherwise), out-of-range chunks zero-filled, in a STAGES-deep ring of shared tiles:
//     STAGES - 1 tiles in flight while the warps multiply the oldest;
//   - shared tiles XOR-swizzled in 16-byte chunks so that the copies' stores and ldmatrix's row
//     reads touch 32 distinct banks per phase (no padding: 3 stages of 128 x 32 tiles of both
//     operands fill the 48 KiB of static shared memory exactly);
//   - fragments loaded with ldmatrix (.trans for an operand contiguous along its rows).
// The operand comes in as an address: pa(bb, m, k) -> const __nv_bfloat16*, the element's address,
// asked only for m in [0, M), k in [0, K) at chunk starts (and (bb, 0, 0) for a zero-filled chunk's
// source); the epilogue is out(bb, m, n, acc) as in gemm.cuh. Split-K (mae_gemm_mma_async_split and
// mae_gemm_split_reduce): for outputs with too few tiles to fill the GPU, blocks over slices of k
// write f32 partials to a workspace that a second kernel sums in order before the epilogue.
#pragma once
#include "async_copy.cuh"

namespace {
// Element offset of 16-byte chunk c of row r in a [rows][32] tile (k contiguous): the chunk's slot
// XOR (r / 2) % 4, so the 8 rows of an ldmatrix phase (64-byte rows, two per 128-byte bank line)
// cover all 32 banks.
__device__ __forceinline__ int mae_swz_k(int r, int c) { return r * 32 + 8 * (c ^ ((r >> 1) & 3)); }
// Element offset of chunk c of k row q in a [32][ROWS] tile (rows contiguous, ROWS >= 64): the
// chunk's slot XOR q % 8, so 8 consecutive k rows at one chunk fall on 8 distinct bank groups.
template <int ROWS> __device__ __forceinline__ int mae_swz_row(int q, int c) { return q * ROWS + 8 * (c ^ (q & 7)); }

// Issues the copies of one operand's k tile [k0, k0 + 32) x rows [r0, r0 + ROWS) into s.
template <int ROWS, int NT, bool Row, class P>
__device__ __forceinline__ void mae_gemm_copy_tile(__nv_bfloat16* s, const P& p, int64_t bb, int64_t r0, int64_t R,
                                                   int64_t k0, int64_t K) {
  constexpr int CHUNKS = ROWS * 32 / 8, PER_K = ROWS / 8;
  static_assert(CHUNKS % NT == 0, "the tile's chunks must split evenly over the threads");
  const __nv_bfloat16* const any = p(bb, 0, 0);  // a valid source for a zero-filled chunk
#pragma unroll
  for (int i = 0; i < CHUNKS / NT; ++i) {
    const int c = threadIdx.x + i * NT;
    const int r = Row ? 8 * (c % PER_K) : c / 4, q = Row ? c / PER_K : 8 * (c % 4);
    const int off = Row ? mae_swz_row<ROWS>(q, c % PER_K) : mae_swz_k(r, c % 4);
    const bool in = r0 + r < R && k0 + q < K;
    mae_cp_async16(s + off, in ? p(bb, r0 + r, k0 + q) : any, in ? 16 : 0);
  }
}

// The row address lane `lane` gives ldmatrix for matrix lane / 8 of a 16 x 16 fragment block at
// (rows r0.., k kk..): matrices in the order (rows +0, k +0), (the second matrix's step), ... where
// the second matrix steps rows when RowsSecond (A: a1 is rows 8-15) and k otherwise (B: b1 is k 8-15).
template <int ROWS, bool Row, bool RowsSecond>
__device__ __forceinline__ const __nv_bfloat16* mae_frag_row(const __nv_bfloat16* s, int r0, int kk, int lane) {
  const int mat = lane >> 3, rowStep = RowsSecond ? (mat & 1) : (mat >> 1), kStep = RowsSecond ? (mat >> 1) : (mat & 1);
  if (Row) return s + mae_swz_row<ROWS>(kk + 8 * kStep + (lane & 7), r0 / 8 + rowStep);
  return s + mae_swz_k(r0 + 8 * rowStep + (lane & 7), kk / 8 + kStep);
}

// Accumulates into c (zeroed here) the warp's part of A[m0.., k] B[n0.., k] over the k tiles
// [kt0, kt1) through the ring As, Bs ([STAGES][rows * 32] each); returns with every copy landed and
// every warp past the ring (a barrier), so the caller may refill it.
template <int BM, int BN, int WM, int WN, int STAGES, bool ARow, bool BRow, int MI, int NI, class PA, class PB>
__device__ __forceinline__ void mae_gemm_async_mainloop(float (&c)[MI][NI][4], __nv_bfloat16* As, __nv_bfloat16* Bs,
                                                        const PA& pa, const PB& pb, int64_t bb, int64_t m0, int64_t M,
                                                        int64_t n0, int64_t N, int64_t kt0, int64_t kt1, int64_t K) {
  constexpr int BK = 32, NT = 32 * WM * WN, TM = BM / WM, TN = BN / WN;
  static_assert(MI == TM / 16 && NI == TN / 8 && BM >= 64 && BN >= 64 && NI % 2 == 0 && STAGES >= 2, "tile shape");
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, wm = warp / WN, wn = warp % WN;
#pragma unroll
  for (int i = 0; i < MI; ++i)
    for (int j = 0; j < NI; ++j)
      for (int h = 0; h < 4; ++h) c[i][j][h] = 0.f;
  // one group per k tile (empty past the last), so that wait<STAGES - 2> means "tile kt landed"
  const auto stage = [&](int64_t kt) {
    if (kt < kt1) {
      mae_gemm_copy_tile<BM, NT, ARow>(As + (kt % STAGES) * BM * BK, pa, bb, m0, M, kt * BK, K);
      mae_gemm_copy_tile<BN, NT, BRow>(Bs + (kt % STAGES) * BN * BK, pb, bb, n0, N, kt * BK, K);
    }
    mae_cp_async_commit();
  };
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) stage(kt0 + s);
  for (int64_t kt = kt0; kt < kt1; ++kt) {
    mae_cp_async_wait<STAGES - 2>();
    __syncthreads();  // tile kt is in for every thread, and every warp is done with tile kt - 1
    stage(kt + STAGES - 1);  // into the slot of tile kt - 1
    const __nv_bfloat16* const sa = As + (kt % STAGES) * BM * BK;
    const __nv_bfloat16* const sb = Bs + (kt % STAGES) * BN * BK;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      uint32_t af[MI][4], bf[NI][2];
#pragma unroll
      for (int i = 0; i < MI; ++i) mae_ldmatrix_x4<ARow>(af[i], mae_frag_row<BM, ARow, true>(sa, wm * TM + i * 16, kk, lane));
#pragma unroll
      for (int j = 0; j < NI; j += 2) {
        uint32_t r[4];
        mae_ldmatrix_x4<BRow>(r, mae_frag_row<BN, BRow, false>(sb, wn * TN + j * 8, kk, lane));
        bf[j][0] = r[0], bf[j][1] = r[1], bf[j + 1][0] = r[2], bf[j + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int j = 0; j < NI; ++j) mae_mma_bf16_16816(c[i][j], af[i], bf[j]);
    }
  }
  mae_cp_async_wait<0>();  // the empty groups past the last tile
  __syncthreads();         // every warp is done with the ring before the caller refills it
}

template <int BM, int BN, int BK, int WM, int WN, int STAGES, bool ARow, bool BRow, class PA, class PB, class Out>
__device__ __forceinline__ void mae_gemm_mma_async(int64_t batch, int64_t M, int64_t N, int64_t K, const PA& pa,
                                                   const PB& pb, const Out& out) {
  static_assert(BK == 32, "32-element k tiles (the swizzles assume 64-byte tile rows)");
  constexpr int MI = BM / WM / 16, NI = BN / WN / 8;
  MAE_SHARED_ALIGNED(128, __nv_bfloat16, As, [STAGES * BM * BK]);
  MAE_SHARED_ALIGNED(128, __nv_bfloat16, Bs, [STAGES * BN * BK]);
  for (int64_t bb = blockIdx.z; bb < batch; bb += gridDim.z) {
    const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)blockIdx.x * BN;
    float c[MI][NI][4];
    mae_gemm_async_mainloop<BM, BN, WM, WN, STAGES, ARow, BRow>(c, As, Bs, pa, pb, bb, m0, M, n0, N, 0,
                                                                (K + BK - 1) / BK, K);
    mae_gemm_for_each_acc<BM, BN, WM, WN>(m0, M, n0, N,
                                          [&](int64_t m, int64_t n, int i, int j, int h) { out(bb, m, n, c[i][j][h]); });
  }
}

// Split-K (one sample): blockIdx.x is (slice z, n tile), so that the slices do not depend on the
// device's grid z limit; block (z, n tile, m tile) computes the partial product over k in
// [z KS, (z + 1) KS) (KS a multiple of 32) and writes it to the f32 workspace ws[z][M][N];
// mae_gemm_split_reduce then sums the partials in order of z and runs the op's epilogue. For GEMMs whose output has too few tiles
// to fill the GPU and whose k is long (the weight gradients: 768 x 768 outputs over 12,800 tokens).
template <int BM, int BN, int BK, int WM, int WN, int STAGES, bool ARow, bool BRow, class PA, class PB>
__device__ __forceinline__ void mae_gemm_mma_async_split(int64_t M, int64_t N, int64_t K, int64_t KS, const PA& pa,
                                                         const PB& pb, float* ws) {
  static_assert(BK == 32, "32-element k tiles (the swizzles assume 64-byte tile rows)");
  constexpr int MI = BM / WM / 16, NI = BN / WN / 8;
  MAE_SHARED_ALIGNED(128, __nv_bfloat16, As, [STAGES * BM * BK]);
  MAE_SHARED_ALIGNED(128, __nv_bfloat16, Bs, [STAGES * BN * BK]);
  const int64_t tilesN = (N + BN - 1) / BN, z = blockIdx.x / tilesN;
  const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)(blockIdx.x % tilesN) * BN;
  const int64_t KT = (K + BK - 1) / BK, kt0 = z * (KS / BK), kt1 = kt0 + KS / BK < KT ? kt0 + KS / BK : KT;
  float c[MI][NI][4];
  mae_gemm_async_mainloop<BM, BN, WM, WN, STAGES, ARow, BRow>(c, As, Bs, pa, pb, int64_t{0}, m0, M, n0, N, kt0, kt1, K);
  float* const part = ws + z * M * N;
  mae_gemm_for_each_acc<BM, BN, WM, WN>(m0, M, n0, N,
                                        [&](int64_t m, int64_t n, int i, int j, int h) { part[m * N + n] = c[i][j][h]; });
}

// The second pass of split-K: out(0, m, n, sum over z of ws[z][m][n]) for every (m, n), the partials
// added in order of z (deterministic), a thread per output (coalesced along n). Barrier-free.
template <class Out>
__device__ __forceinline__ void mae_gemm_split_reduce(int64_t M, int64_t N, int64_t S, const float* ws, const Out& out) {
  const int64_t total = M * N;
  for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (int64_t)gridDim.x * blockDim.x) {
    float acc = ws[e];
    for (int64_t z = 1; z < S; ++z) acc += ws[z * total + e];
    out(int64_t{0}, e / N, e % N, acc);
  }
}
}  // namespace
