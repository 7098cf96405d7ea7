// cpu_gemm.h: the register-blocked micro-kernel of the CPU backend's GEMMs (BLIS-style) and the
// tile sizes around it, for the build being compiled (baseline, AVX2+FMA or AVX-512). The generated
// GEMM (codegen/src/emit/cpu.ts) packs B into panels of NR columns ([batch][panel][K][NR], zero past
// N; once up front, or per task and KB block where B is large: mae_gemm_b_per_task) and, per block
// of MB rows and KB of K, A into micro-panels of MR rows ([panel][kq][MR], zero past M);
// mae_gemm_micro then adds the MR x NR product of one A micro-panel and one B panel (kn steps of k)
// to a tile of the f32/f64 accumulator, every sum held in vector registers, and the op's epilogue
// (bias, GELU, residual, dtype) runs once per output after the last k block.
// Written with GCC/Clang vector extensions: the same source becomes SSE2, AVX2 or AVX-512 code by the
// compile flags; `acc += a * b` contracts to FMA where the build has it.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

// MR rows x NV vectors of accumulators, plus NV vectors of B and one broadcast of A, fit the
// registers: AVX-512 6 x 4 (+ 4 + 1 of 32 zmm; measured against 12 x 2, 14 x 2, 8 x 3 and 7 x 4 on
// a Zen 5 core, 86% of its FMA peak on one thread), AVX2 and SSE 6 x 2 (+ 2 + 1 of 16).
#if defined(__AVX512F__)
#define MAE_GEMM_VECTOR_BYTES 64
#define MAE_GEMM_MR 6
#define MAE_GEMM_NV 4
#elif defined(__AVX__)
#define MAE_GEMM_VECTOR_BYTES 32
#define MAE_GEMM_MR 6
#define MAE_GEMM_NV 2
#else
#define MAE_GEMM_VECTOR_BYTES 16
#define MAE_GEMM_MR 6
#define MAE_GEMM_NV 2
#endif

/** The tile sizes for compute type T in this build. */
template <typename T>
struct mae_gemm_tiles {
  static constexpr int W = MAE_GEMM_VECTOR_BYTES / (int)sizeof(T);  // lanes per vector
  static constexpr int NV = MAE_GEMM_NV;                            // vectors of B per k step
  static constexpr int NR = NV * W;                                 // columns per B panel
  static constexpr int MR = MAE_GEMM_MR;                            // rows per A micro-panel
  static constexpr int64_t KB = 256;                                // k per block (B panel: KB x NR in L1)
  static constexpr int64_t MB = 10 * MR;                            // rows per A block (in L2; mae_gemm_rows)
  static constexpr int64_t NB = 16 * NR;                            // columns per accumulator tile
  static constexpr int64_t kCachedB = int64_t{16} << 20;            // bytes of packed B that stay cached
};

/**
 * Rows per task (an A block) of an M x N x K product on `threads` threads: about MB, or where B packed
 * (K x N) outgrows what stays cached between tasks (16 MiB: the weight gradients, summing over every
 * token, K in the tens of thousands) more, up to 64 MR, since each task streams its columns of B
 * once over all of K, so that B is read M / rows times; never so many that a thread has fewer than
 * two tasks. Then evened out over the blocks M needs (64 rows are two tasks of 36 and 28, not 60
 * and 4).
 */
template <typename T>
static inline int64_t mae_gemm_rows(int64_t M, int64_t N, int64_t K, int threads) {
  using Tl = mae_gemm_tiles<T>;
  int64_t rows = Tl::MB;
  if (K * N * (int64_t)sizeof(T) > Tl::kCachedB) {
    const int64_t col_blocks = (N + Tl::NB - 1) / Tl::NB;
    rows = M * col_blocks / (2 * (int64_t)(threads < 1 ? 1 : threads)) / Tl::MR * Tl::MR;
    rows = rows < Tl::MB ? Tl::MB : rows > 64 * Tl::MR ? 64 * Tl::MR : rows;
  }
  const int64_t blocks = (M + rows - 1) / rows;
  if (blocks < 1) return rows;
  return ((M + blocks - 1) / blocks + Tl::MR - 1) / Tl::MR * Tl::MR;
}

/**
 * Whether each task packs its own columns of B per KB block (into a thread's buffer that stays in
 * L2) rather than B being packed once up front: where packed B outgrows what stays cached and at
 * most two row blocks read it. Up front, such a B (ViT-B's fc2 weight gradient at batch 256: 768
 * rows, 157 MB of B) is written out to memory, its pages faulted in on each call, and read back;
 * per task it is read from its source once per row block, which the two threads do side by side.
 */
template <typename T>
static inline bool mae_gemm_b_per_task(int64_t row_blocks, int64_t N, int64_t K) {
  return row_blocks <= 2 && K * N * (int64_t)sizeof(T) > mae_gemm_tiles<T>::kCachedB;
}

/**
 * Parts to split K into when an M x N product has fewer tasks (row and column blocks) than threads:
 * the weight gradients of narrow layers, e.g. a 32 x 32 dW summed over thousands of tokens is one
 * task. Each part takes whole KB blocks, at least two; the parts' sums are added in order before
 * the epilogue. 1 (no split) otherwise.
 */
template <typename T>
static inline int64_t mae_gemm_ksplit(int64_t tasks, int64_t K, int threads) {
  using Tl = mae_gemm_tiles<T>;
  if (threads < 2 || tasks >= threads) return 1;
  const int64_t want = (threads + tasks - 1) / tasks, most = K / (2 * Tl::KB);
  return want < most ? want : most < 1 ? 1 : most;
}

/**
 * c[i * ldc + j] += sum over k < kn of a[k * MR + i] * b[k * NR + j], for i < MR and j < NR = NV
 * vectors: one packed A micro-panel times one packed B panel into a row-major tile of the accumulator.
 */
template <typename T, int NV>
static inline void mae_gemm_micro_nv(int64_t kn, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ c,
                                     int64_t ldc) {
  using Tl = mae_gemm_tiles<T>;
  constexpr int W = Tl::W, NR = NV * W, MR = Tl::MR;
  typedef T V __attribute__((vector_size(W * sizeof(T))));
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) acc[i][j] = V{};
  }
  for (int64_t k = 0; k < kn; k++) {
    V bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) std::memcpy(&bv[j], b + k * NR + j * W, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const V av = V{} + a[k * MR + i];
#pragma GCC unroll 4
      for (int j = 0; j < NV; j++) acc[i][j] += av * bv[j];
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) {
      V cv;
      std::memcpy(&cv, c + i * ldc + j * W, sizeof(V));
      cv += acc[i][j];
      std::memcpy(c + i * ldc + j * W, &cv, sizeof(V));
    }
  }
}

/**
 * Columns per B panel for a product N wide: NR, or half of it where N fits in half (a 32-wide
 * layer's products on AVX-512 would leave half of every 64-column panel zero).
 */
template <typename T>
static inline int64_t mae_gemm_nr(int64_t N) {
  using Tl = mae_gemm_tiles<T>;
  return Tl::NV >= 2 && N <= Tl::NR / 2 ? Tl::NR / 2 : Tl::NR;
}

/** mae_gemm_micro_nv for panels of nr (mae_gemm_nr) columns. */
template <typename T>
static inline void mae_gemm_micro(int64_t nr, int64_t kn, const T* __restrict__ a, const T* __restrict__ b,
                                  T* __restrict__ c, int64_t ldc) {
  using Tl = mae_gemm_tiles<T>;
  if (nr == Tl::NR)
    mae_gemm_micro_nv<T, Tl::NV>(kn, a, b, c, ldc);
  else
    mae_gemm_micro_nv<T, (Tl::NV >= 2 ? Tl::NV / 2 : 1)>(kn, a, b, c, ldc);
}

/** A buffer of at least n elements for this thread, kept for the next GEMM (slot: which one). */
template <typename T, int Slot>
static inline T* mae_gemm_scratch(size_t n) {
  static thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

/**
 * n elements for one GEMM: this thread's kept buffer (mae_gemm_scratch) up to 64 MiB, so that
 * the step's GEMMs neither allocate nor fault pages in again; larger ones (ViT-B's weight gradients
 * at large batches) allocated and freed with the GEMM, so that no such size stays held.
 */
template <typename T, int Slot>
struct mae_gemm_buffer {
  static constexpr size_t kKeepBytes = size_t{64} << 20;
  std::unique_ptr<T[]> own;
  T* p;
  explicit mae_gemm_buffer(size_t n)
      : own(n * sizeof(T) > kKeepBytes ? new T[n] : nullptr), p(own ? own.get() : mae_gemm_scratch<T, Slot>(n)) {}
};
