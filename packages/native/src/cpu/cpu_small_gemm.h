// cpu_small_gemm.h: products of small matrices held in padded row-major buffers, for the CPU
// attention (cpu_flash.h): C[m][n] = (or +=) sum over k < K of A(m, k) B[k][n], where A is read
// element by element with any strides (a[m * sam + k * sak]: a matrix or its transpose) and
// broadcast, and B's and C's rows run along n with unit stride. The register tile is
// MAE_SMALL_MR rows of A by one or two vectors of B's row; its sums are held in registers over
// chunks of MAE_SMALL_KC steps of k and the chunks added to C in k order. M must be a multiple of
// MAE_SMALL_MR and N of MAE_SMALL_PAD (the callers pad their buffers, so there is no scalar tail).
// Written with GCC/Clang vector extensions, as cpu_gemm.h: the same source is SSE2, AVX2 or AVX-512
// code by the build's flags.
#pragma once
#include <cstdint>
#include <cstring>
#include "cpu_gemm.h"

// Rows of the register tile: 8 x 2 vectors (+ 2 of B and a broadcast) of AVX-512's 32 registers,
// 4 x 2 of the 16 of AVX2 and SSE.
#if MAE_GEMM_VECTOR_BYTES == 64
#define MAE_SMALL_MR 8
#else
#define MAE_SMALL_MR 4
#endif
// k steps summed in registers before they are added to C: sums over a sequence of keys or queries
// (up to hundreds) rounded as chunks of 8 plus their running total, not one chain.
#define MAE_SMALL_KC 8
// N (and the rows M) are padded to this many elements; every vector width below divides it.
#define MAE_SMALL_PAD 8

/** n rounded up to a multiple of MAE_SMALL_PAD. */
static inline int64_t mae_small_pad(int64_t n) { return (n + MAE_SMALL_PAD - 1) / MAE_SMALL_PAD * MAE_SMALL_PAD; }

/** One MR x (NV L-lane vectors) tile of C from K steps of the product. */
template <typename T, int L, int NV>
static inline void mae_small_tile(int64_t K, const T* __restrict__ a, int64_t sam, int64_t sak, const T* __restrict__ b,
                                  int64_t ldb, T* __restrict__ c, int64_t ldc, bool add) {
  constexpr int MR = MAE_SMALL_MR;
  typedef T V __attribute__((vector_size(L * sizeof(T))));
  for (int64_t k0 = 0; k0 < K; k0 += MAE_SMALL_KC) {
    const int64_t k1 = k0 + MAE_SMALL_KC < K ? k0 + MAE_SMALL_KC : K;
    V acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 2
      for (int j = 0; j < NV; j++) acc[i][j] = V{};
    }
    for (int64_t k = k0; k < k1; k++) {
      V bv[NV];
#pragma GCC unroll 2
      for (int j = 0; j < NV; j++) std::memcpy(&bv[j], b + k * ldb + j * L, sizeof(V));
      const T* ak = a + k * sak;
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++) {
        const V av = V{} + ak[i * sam];
#pragma GCC unroll 2
        for (int j = 0; j < NV; j++) acc[i][j] += av * bv[j];
      }
    }
    const bool sum = add || k0 > 0;
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 2
      for (int j = 0; j < NV; j++) {
        V cv = acc[i][j];
        if (sum) {
          V old;
          std::memcpy(&old, c + i * ldc + j * L, sizeof(V));
          cv = old + cv;
        }
        std::memcpy(c + i * ldc + j * L, &cv, sizeof(V));
      }
    }
  }
}

/**
 * c[m * ldc + n] (+)= sum over k < K of a[m * sam + k * sak] * b[k * ldb + n], for m < M (a multiple of
 * MAE_SMALL_MR) and n < N (a multiple of MAE_SMALL_PAD); add: accumulate into c, else overwrite it.
 */
template <typename T>
static void mae_small_gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t sam, int64_t sak, const T* b,
                           int64_t ldb, T* c, int64_t ldc, bool add) {
  constexpr int W = mae_gemm_tiles<T>::W;
  for (int64_t m = 0; m < M; m += MAE_SMALL_MR) {
    const T* am = a + m * sam;
    T* cm = c + m * ldc;
    int64_t n = 0;
    for (; n + 2 * W <= N; n += 2 * W) mae_small_tile<T, W, 2>(K, am, sam, sak, b + n, ldb, cm + n, ldc, add);
    for (; n + W <= N; n += W) mae_small_tile<T, W, 1>(K, am, sam, sak, b + n, ldb, cm + n, ldc, add);
    if constexpr (W > MAE_SMALL_PAD)
      for (; n < N; n += W / 2) mae_small_tile<T, W / 2, 1>(K, am, sam, sak, b + n, ldb, cm + n, ldc, add);
  }
}
