// cpu_flash.h: attention on the CPU, the schedules of attention_forward and attention_backward
// (codegen/src/ops/flash.ts) on the model's own layouts: qkv [N, T, 3, H, E] (q, k, v of each
// token side by side) and the heads merged, out [N, T, H, E]; lse [N, H, T].
// Both: OpenMP over (n, h); each (n, h) stages its keys and values in the compute type C (f32, or
// f64 for the f64 variant) into buffers padded to whole vectors (cpu_small_gemm.h), then takes its
// queries in blocks of MAE_FLASH_QB rows, every product of a block a register-tiled small GEMM:
// Forward: S = Q K^T; per row p_j = exp(scale s_j - max), z = sum p, lse = max + log z; out = P V / z.
// Backward: S = Q K^T and P = exp(scale S - lse), dP = dO V^T, D = rowsum(dO * O), dS = P (dP - D);
// dQ = scale dS K written at once; dK += scale dS^T Q, dV += P^T dO (or their transposes) summed over the blocks and
// written at the end (no two threads share an (n, h)). Memory per thread grows with T (a block's
// scores: MAE_FLASH_QB x T), not T^2.
// The generated kernels (ops_cpu.cpp) call these with the storage formats (cpu_storage.h: F of
// qkv, out and their gradients, L of lse), the compute type C and the strides the generator
// derives from each op's declared shapes (mae_flash_layout).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#include "cpu_math.h"
#include "cpu_small_gemm.h"
#include "cpu_storage.h"
#include "flash_layout.h"

// OpenMP runs a call in parallel from this much work on (N H T T (E + 1)), as the generated loops
// do theirs (codegen/src/emit/cpu.ts, PAR_MIN_WORK).
static const int64_t MAE_FLASH_PAR_MIN_WORK = 32768;
// Query rows per block (a multiple of MAE_SMALL_MR): a block's scores, 64 x T, stay in L2.
static const int64_t MAE_FLASH_QB = 64;

/** rows x E elements of src (row r at off + r * stride) into dst[r * ld + c], compute type. */
template <class F, class C>
static inline void mae_flash_rows(C* dst, int64_t ld, const typename F::storage* src, int64_t off, int64_t stride,
                                  int64_t rows, int64_t E) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < E; ++c) dst[r * ld + c] = mae_cpu_load<C>(F(), src[off + r * stride + c]);
}

/** The same rows transposed: dst[c * ld + r]. */
template <class F, class C>
static inline void mae_flash_cols(C* dst, int64_t ld, const typename F::storage* src, int64_t off, int64_t stride,
                                  int64_t rows, int64_t E) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < E; ++c) dst[c * ld + r] = mae_cpu_load<C>(F(), src[off + r * stride + c]);
}

/** The sum or the max of a vector's L lanes, by halves (a tree of L - 1 operations). */
template <typename T, int L>
struct mae_lanes {
  typedef T V __attribute__((vector_size(L * sizeof(T))));
  typedef typename mae_lanes<T, L / 2>::V H;
  static inline void halves(V v, H* lo, H* hi) {
    std::memcpy(lo, &v, sizeof(H));
    std::memcpy(hi, reinterpret_cast<const char*>(&v) + sizeof(H), sizeof(H));
  }
  static inline T sum(V v) {
    H lo, hi;
    halves(v, &lo, &hi);
    return mae_lanes<T, L / 2>::sum(lo + hi);
  }
  static inline T max(V v) {
    H lo, hi;
    halves(v, &lo, &hi);
    return mae_lanes<T, L / 2>::max(lo > hi ? lo : hi);
  }
};
template <typename T>
struct mae_lanes<T, 1> {
  typedef T V __attribute__((vector_size(sizeof(T))));
  static inline T sum(V v) { return v[0]; }
  static inline T max(V v) { return v[0]; }
};

/** Elements per row of a block's scores: T padded to whole vectors of the build, so softmax has no tail. */
template <class C>
static inline int64_t mae_flash_score_ld(int64_t T) {
  constexpr int64_t W = mae_gemm_tiles<C>::W;
  return (mae_small_pad(T) + W - 1) / W * W;
}

/**
 * A row of scores (T keys, ld elements) to exp(scale s - max) in place, the pads past T to 0;
 * returns the sum and the max in *mx_out.
 */
template <class C>
static inline C mae_flash_softmax_row(C* __restrict__ s, C scale, int64_t T, int64_t ld, C* mx_out) {
  constexpr int W = mae_gemm_tiles<C>::W;
  typedef typename mae_lanes<C, W>::V V;
  for (int64_t j = T; j < ld; ++j) s[j] = (C)(-INFINITY);
  V m = V{} + (C)(-INFINITY);
  for (int64_t j = 0; j < ld; j += W) {
    V x;
    std::memcpy(&x, s + j, sizeof(V));
    x *= scale;
    std::memcpy(s + j, &x, sizeof(V));
    m = x > m ? x : m;
  }
  const C mx = mae_lanes<C, W>::max(m);
  V z = V{};
  for (int64_t j = 0; j < ld; j += W) {
    C* __restrict__ sj = s + j;
#pragma omp simd
    for (int l = 0; l < W; ++l) sj[l] = mae_cpu_exp(sj[l] - mx);
    V x;
    std::memcpy(&x, sj, sizeof(V));
    z += x;
  }
  *mx_out = mx;
  return mae_lanes<C, W>::sum(z);
}

template <class F, class L, class C>
static void mae_flash_forward_cpu(typename F::storage* out, typename L::storage* lse, const typename F::storage* qkv,
                                  C scale, int64_t N, int64_t T, int64_t H, int64_t E, const mae_flash_layout& ly) {
  const int64_t Tp = mae_small_pad(T), Ep = mae_small_pad(E), QB = std::min(MAE_FLASH_QB, Tp);
  const int64_t ld = mae_flash_score_ld<C>(T);
#pragma omp parallel if (N * H * T * T * (E + 1) >= MAE_FLASH_PAR_MIN_WORK)
  {
    // zeroed once: the pads stay finite (their products are computed and never read)
    std::vector<C> kt((size_t)(Ep * Tp)), v((size_t)(Tp * Ep)), q((size_t)(QB * Ep)), s((size_t)(QB * ld));
    std::vector<C> o((size_t)(QB * Ep));
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t qo = n * ly.qkv_n + h * ly.qkv_h, ko = qo + ly.qkv_part, vo = ko + ly.qkv_part;
        mae_flash_cols<F>(kt.data(), Tp, qkv, ko, ly.qkv_t, T, E);
        mae_flash_rows<F>(v.data(), Ep, qkv, vo, ly.qkv_t, T, E);
        for (int64_t i0 = 0; i0 < T; i0 += QB) {
          const int64_t qn = std::min(QB, T - i0), qp = mae_small_pad(qn);
          mae_flash_rows<F>(q.data(), Ep, qkv, qo + i0 * ly.qkv_t, ly.qkv_t, qn, E);
          mae_small_gemm<C>(qp, Tp, E, q.data(), Ep, 1, kt.data(), Tp, s.data(), ld, false);  // S = Q K^T
          C z[MAE_FLASH_QB];
          for (int64_t i = 0; i < qn; ++i) {
            C mx;
            z[i] = mae_flash_softmax_row(s.data() + i * ld, scale, T, ld, &mx);
            lse[n * ly.lse_n + h * ly.lse_h + i0 + i] = mae_cpu_store(L(), mx + mae_cpu_log(z[i]));
          }
          mae_small_gemm<C>(qp, Ep, T, s.data(), ld, 1, v.data(), Ep, o.data(), Ep, false);  // O = P V
          for (int64_t i = 0; i < qn; ++i) {
            const int64_t oo = n * ly.out_n + (i0 + i) * ly.out_t + h * ly.out_h;
            for (int64_t e = 0; e < E; ++e) out[oo + e] = mae_cpu_store(F(), o[i * Ep + e] / z[i]);
          }
        }
      }
  }
}

/**
 * Whether the backward sums dK and dV transposed ([E][T]: E rows of T lanes) rather than as [T][E]:
 * whichever takes fewer vector FMAs a step (a row's lanes round up to whole vectors), e.g. at head size
 * 8 one 8-lane vector a row of [T][E] against 72-key rows of [E][T].
 */
template <class C>
static inline bool mae_flash_kv_transposed(int64_t Tp, int64_t Ep) {
  constexpr int64_t W = mae_gemm_tiles<C>::W;
  return Ep * ((Tp + W - 1) / W) < Tp * ((Ep + W - 1) / W);
}

/**
 * dK += dS^T Q and dV += P^T dO over a block's qn query rows (q, dov: [qn][Ep]; p, ds: [qn][Tp]),
 * into dk and dv laid out [E][T] (tkv) or [T][E].
 */
template <class C>
static inline void mae_flash_dkdv(bool tkv, int64_t Tp, int64_t Ep, int64_t qn, const C* q, const C* dov, const C* p,
                                  const C* ds, C* dk, C* dv) {
  if (tkv) {
    mae_small_gemm<C>(Ep, Tp, qn, q, 1, Ep, ds, Tp, dk, Tp, true);
    mae_small_gemm<C>(Ep, Tp, qn, dov, 1, Ep, p, Tp, dv, Tp, true);
  } else {
    mae_small_gemm<C>(Tp, Ep, qn, ds, 1, Tp, q, Ep, dk, Ep, true);
    mae_small_gemm<C>(Tp, Ep, qn, p, 1, Tp, dov, Ep, dv, Ep, true);
  }
}

template <class F, class L, class C>
static void mae_flash_backward_cpu(typename F::storage* dqkv, const typename F::storage* dout,
                                   const typename F::storage* qkv, const typename F::storage* out,
                                   const typename L::storage* lse, C scale, int64_t N, int64_t T, int64_t H, int64_t E,
                                   const mae_flash_layout& ly) {
  const int64_t Tp = mae_small_pad(T), Ep = mae_small_pad(E), QB = std::min(MAE_FLASH_QB, Tp);
  const bool tkv = mae_flash_kv_transposed<C>(Tp, Ep);
#pragma omp parallel if (N * H * T * T * (E + 1) >= MAE_FLASH_PAR_MIN_WORK)
  {
    // zeroed once: the pads stay finite (their products are computed and never read)
    std::vector<C> kt((size_t)(Ep * Tp)), vt((size_t)(Ep * Tp)), k((size_t)(Tp * Ep)), dk((size_t)(Ep * Tp));
    std::vector<C> dv((size_t)(Ep * Tp)), q((size_t)(QB * Ep)), dov((size_t)(QB * Ep)), s((size_t)(QB * Tp));
    std::vector<C> dp((size_t)(QB * Tp)), dq((size_t)(QB * Ep));
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t qo = n * ly.qkv_n + h * ly.qkv_h, ko = qo + ly.qkv_part, vo = ko + ly.qkv_part;
        const int64_t oo = n * ly.out_n + h * ly.out_h;
        mae_flash_cols<F>(kt.data(), Tp, qkv, ko, ly.qkv_t, T, E);
        mae_flash_cols<F>(vt.data(), Tp, qkv, vo, ly.qkv_t, T, E);
        mae_flash_rows<F>(k.data(), Ep, qkv, ko, ly.qkv_t, T, E);
        std::fill(dk.begin(), dk.end(), (C)0);
        std::fill(dv.begin(), dv.end(), (C)0);
        for (int64_t i0 = 0; i0 < T; i0 += QB) {
          const int64_t qn = std::min(QB, T - i0), qp = mae_small_pad(qn);
          mae_flash_rows<F>(q.data(), Ep, qkv, qo + i0 * ly.qkv_t, ly.qkv_t, qn, E);
          mae_flash_rows<F>(dov.data(), Ep, dout, oo + i0 * ly.out_t, ly.out_t, qn, E);
          mae_small_gemm<C>(qp, Tp, E, q.data(), Ep, 1, kt.data(), Tp, s.data(), Tp, false);     // S = Q K^T
          mae_small_gemm<C>(qp, Tp, E, dov.data(), Ep, 1, vt.data(), Tp, dp.data(), Tp, false);  // dP = dO V^T
          for (int64_t i = 0; i < qn; ++i) {
            const int64_t ro = oo + (i0 + i) * ly.out_t;
            C d = (C)0;
            for (int64_t e = 0; e < E; ++e) d += dov[i * Ep + e] * mae_cpu_load<C>(F(), out[ro + e]);
            const C l = mae_cpu_load<C>(L(), lse[n * ly.lse_n + h * ly.lse_h + i0 + i]);
            C* __restrict__ sr = s.data() + i * Tp;
            C* __restrict__ dr = dp.data() + i * Tp;
#pragma omp simd
            for (int64_t j = 0; j < T; ++j) {
              sr[j] = mae_cpu_exp(sr[j] * scale - l);
              dr[j] = sr[j] * (dr[j] - d);
            }
          }
          mae_small_gemm<C>(qp, Ep, T, dp.data(), Tp, 1, k.data(), Ep, dq.data(), Ep, false);  // dQ = dS K
          for (int64_t i = 0; i < qn; ++i) {
            const int64_t ro = qo + (i0 + i) * ly.qkv_t;
            for (int64_t e = 0; e < E; ++e) dqkv[ro + e] = mae_cpu_store(F(), dq[i * Ep + e] * scale);
          }
          mae_flash_dkdv(tkv, Tp, Ep, qn, q.data(), dov.data(), s.data(), dp.data(), dk.data(), dv.data());
        }
        for (int64_t j = 0; j < T; ++j)
          for (int64_t e = 0; e < E; ++e) {
            const int64_t at = tkv ? e * Tp + j : j * Ep + e;
            dqkv[ko + j * ly.qkv_t + e] = mae_cpu_store(F(), dk[at] * scale);
            dqkv[vo + j * ly.qkv_t + e] = mae_cpu_store(F(), dv[at]);
          }
      }
  }
}
