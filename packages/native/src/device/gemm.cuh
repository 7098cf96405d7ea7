// gemm.cuh: the block-tile skeletons of the contraction kernels, C[b] (M x N) = A[b] (M x K) times
// B[b] (N x K)^T for each flat batch index b, that packages/codegen/src/emit/cuda_gemm.ts
// instantiates per op: a tensor-core kernel (mma.sync m16n8k16, bf16 operands staged in shared
// memory, fp32 accumulators) in any tile configuration, and an fp32 SIMT kernel (64 x 64 tiles,
// 256 threads, 4 x 4 outputs per thread). The op comes in as three callables that the generated
// kernel defines (device lambdas over its own parameters), and whether each operand is contiguous
// along its rows (ARow, BRow: the staging's threads then walk the rows, else k):
//   a(bb, m, k) -> float      A's element, asked only for m in [0, M), k in [0, K)
//   b(bb, n, k) -> float      B's element, asked only for n in [0, N), k in [0, K)
//   out(bb, m, n, acc)        the epilogue of one accumulator, m in [0, M), n in [0, N)
// so the loads (any layout, gathers, fused prologues) and the epilogue (bias, GELU, residual adds,
// the store) are the op's, and the tiling is here. Blocks: x over N tiles, y over M tiles, z loops
// over the batch (gridDim.z may be less than the batch).
#pragma once

// Elements of each operand a thread loads before storing them to shared memory (mae_gemm_stage).
#ifndef MAE_GEMM_BATCH
#define MAE_GEMM_BATCH 8
#endif

namespace {
template <typename T> __device__ __forceinline__ T mae_gemm_cvt(float v, T*) { return static_cast<T>(v); }
__device__ __forceinline__ __nv_bfloat16 mae_gemm_cvt(float v, __nv_bfloat16*) { return __float2bfloat16_rn(v); }

// Stages the k tile [k0, k0 + BK) of both operands into shared memory: A's rows [m0, m0 + ROWS)
// into sa, B's rows [n0, n0 + ROWS) into sb, row-major s[r * ld + q] (KMajor) or transposed
// s[q * ld + r]; elements outside [0, M or N) x [0, K) are zero. A thread's elements go in batches
// of MAE_GEMM_BATCH per operand, all of a batch's loads before any of its shared stores: a store
// between two loads through a generic pointer orders them, one global latency per element, which
// the first GPU run (2026-11-30) measured in every GEMM (~0.2 us per load request per warp). The
// batches are a loop that is not unrolled, so that ptxas cannot keep every element's row address
// across the k loop (unrolled, the kernels took 215-255 registers and some spilled). ARow / BRow:
// the operand is contiguous along its rows (m or n) rather than k, so consecutive threads take
// consecutive rows of one k (coalesced either way).
template <int ROWS, int BK, int NT, bool KMajor, bool ARow, bool BRow, typename TS, class FA, class FB>
__device__ __forceinline__ void mae_gemm_stage(TS* sa, TS* sb, int ld, const FA& fa, const FB& fb, int64_t bb, int64_t m0,
                                               int64_t M, int64_t n0, int64_t N, int64_t k0, int64_t K) {
  static_assert(ROWS * BK % NT == 0, "the tile's elements must split evenly over the threads");
  constexpr int E = ROWS * BK / NT, B = E < MAE_GEMM_BATCH ? E : MAE_GEMM_BATCH;
  static_assert(E % B == 0, "the batches must split a thread's elements evenly");
  // the i-th element of this thread: e = threadIdx.x + i NT, along k (r = e / BK, q = e % BK) or
  // along the rows (q = e / ROWS, r = e % ROWS)
  const auto at = [](bool rowFast, int i, int& r, int& q) {
    const int e = threadIdx.x + i * NT;
    if (rowFast) r = e % ROWS, q = e / ROWS;
    else r = e / BK, q = e % BK;
  };
#pragma unroll 1
  for (int i0 = 0; i0 < E; i0 += B) {
    TS va[B], vb[B];
#pragma unroll
    for (int j = 0; j < B; ++j) {
      int r, q;
      at(ARow, i0 + j, r, q);
      va[j] = mae_gemm_cvt(m0 + r < M && k0 + q < K ? fa(bb, m0 + r, k0 + q) : 0.f, static_cast<TS*>(nullptr));
      at(BRow, i0 + j, r, q);
      vb[j] = mae_gemm_cvt(n0 + r < N && k0 + q < K ? fb(bb, n0 + r, k0 + q) : 0.f, static_cast<TS*>(nullptr));
    }
#pragma unroll
    for (int j = 0; j < B; ++j) {
      int r, q;
      at(ARow, i0 + j, r, q);
      sa[KMajor ? r * ld + q : q * ld + r] = va[j];
      at(BRow, i0 + j, r, q);
      sb[KMajor ? r * ld + q : q * ld + r] = vb[j];
    }
  }
}

// Calls f(m, n, i, j, h) for each accumulator c[i][j][h] of this thread that lies in [0, M) x [0, N)
// (the m16n8 accumulator layout of WM x WN warps over a BM x BN tile): the tensor-core epilogues.
template <int BM, int BN, int WM, int WN, class F>
__device__ __forceinline__ void mae_gemm_for_each_acc(int64_t m0, int64_t M, int64_t n0, int64_t N, const F& f) {
  constexpr int TM = BM / WM, TN = BN / WN, MI = TM / 16, NI = TN / 8;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, wm = warp / WN, wn = warp % WN, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int h = 0; h < 4; ++h) {
        const int64_t m = m0 + wm * TM + i * 16 + g + (h >> 1) * 8;
        const int64_t n = n0 + wn * TN + j * 8 + 2 * t + (h & 1);
        if (m < M && n < N) f(m, n, i, j, h);
      }
}

// Tensor cores: WM x WN warps, each owning a (BM / WM) x (BN / WN) tile of 16 x 8 MMA tiles; A and B
// staged k-major as bf16 in [rows][BK + 8] (the padding staggers the banks of the fragment loads).
template <int BM, int BN, int BK, int WM, int WN, bool ARow, bool BRow, class A, class B, class Out>
__device__ __forceinline__ void mae_gemm_mma(int64_t batch, int64_t M, int64_t N, int64_t K, const A& a, const B& b,
                                             const Out& out) {
  constexpr int NT = 32 * WM * WN, TM = BM / WM, TN = BN / WN, MI = TM / 16, NI = TN / 8, LD = BK + 8;
  static_assert(BM == BN, "mae_gemm_stage stages A and B tiles of the same rows");
  MAE_SHARED_ALIGNED(16, __nv_bfloat16, As, [BM][LD]);
  MAE_SHARED_ALIGNED(16, __nv_bfloat16, Bs, [BN][LD]);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int wm = warp / WN, wn = warp % WN, g = lane >> 2, t = lane & 3;
  for (int64_t bb = blockIdx.z; bb < batch; bb += gridDim.z) {
    const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)blockIdx.x * BN;
    float c[MI][NI][4];
#pragma unroll
    for (int i = 0; i < MI; ++i)
      for (int j = 0; j < NI; ++j)
        for (int h = 0; h < 4; ++h) c[i][j][h] = 0.f;
    for (int64_t k0 = 0; k0 < K; k0 += BK) {
      mae_gemm_stage<BM, BK, NT, true, ARow, BRow>(&As[0][0], &Bs[0][0], LD, a, b, bb, m0, M, n0, N, k0, K);
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < BK; kk += 16) {
        uint32_t af[MI][4], bf[NI][2];
#pragma unroll
        for (int i = 0; i < MI; ++i) {
          const int ar = wm * TM + i * 16 + g;
          af[i][0] = *reinterpret_cast<const uint32_t*>(&As[ar][kk + 2 * t]);
          af[i][1] = *reinterpret_cast<const uint32_t*>(&As[ar + 8][kk + 2 * t]);
          af[i][2] = *reinterpret_cast<const uint32_t*>(&As[ar][kk + 2 * t + 8]);
          af[i][3] = *reinterpret_cast<const uint32_t*>(&As[ar + 8][kk + 2 * t + 8]);
        }
#pragma unroll
        for (int j = 0; j < NI; ++j) {
          const int bc = wn * TN + j * 8 + g;
          bf[j][0] = *reinterpret_cast<const uint32_t*>(&Bs[bc][kk + 2 * t]);
          bf[j][1] = *reinterpret_cast<const uint32_t*>(&Bs[bc][kk + 2 * t + 8]);
        }
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int j = 0; j < NI; ++j) mae_mma_bf16_16816(c[i][j], af[i], bf[j]);
      }
      __syncthreads();
    }
    mae_gemm_for_each_acc<BM, BN, WM, WN>(m0, M, n0, N,
                                          [&](int64_t m, int64_t n, int i, int j, int h) { out(bb, m, n, c[i][j][h]); });
  }
}

// fp32 SIMT: 64 x 64 tiles, 256 threads as 16 x 16, each 4 x 4 outputs strided 16 apart; A and B
// staged transposed ([BK][64 + 4]) in the compute type CT.
template <typename CT, bool ARow, bool BRow, class A, class B, class Out>
__device__ __forceinline__ void mae_gemm_simt(int64_t batch, int64_t M, int64_t N, int64_t K, const A& a, const B& b,
                                              const Out& out) {
  constexpr int BM = 64, BN = 64, BK = 16, NT = 256;
  MAE_SHARED(CT, As, [BK][BM + 4]);
  MAE_SHARED(CT, Bs, [BK][BN + 4]);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  for (int64_t bb = blockIdx.z; bb < batch; bb += gridDim.z) {
    const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)blockIdx.x * BN;
    CT c[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = (CT)0;
    for (int64_t k0 = 0; k0 < K; k0 += BK) {
      mae_gemm_stage<BM, BK, NT, false, ARow, BRow>(&As[0][0], &Bs[0][0], BM + 4, a, b, bb, m0, M, n0, N, k0, K);
      __syncthreads();
#pragma unroll
      for (int q = 0; q < BK; ++q) {
        CT av[4], bv[4];
        for (int i = 0; i < 4; ++i) {
          av[i] = As[q][ty + 16 * i];
          bv[i] = Bs[q][tx + 16 * i];
        }
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) c[i][j] = fma(av[i], bv[j], c[i][j]);
      }
      __syncthreads();
    }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int64_t m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
        if (m < M && n < N) out(bb, m, n, c[i][j]);
      }
  }
}
}  // namespace
