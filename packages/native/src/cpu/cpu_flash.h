// cpu_flash.h: attention on the CPU, the schedules of attention_forward and attention_backward
// (codegen/src/ops/flash.ts) on the model's own layouts: qkv [N, T, 3, H, E] (q, k, v of each
// token side by side) and the heads merged, out [N, T, H, E]; lse [N, H, T].
// Both: OpenMP over (n, h); each (n, h) first stages its keys and values transposed ([E][T], in
// the compute type C: f32, or f64 for the f64 variant), so every inner loop runs along the T keys
// with unit stride and vectorises even for head sizes of 8 or 16.
// Forward, per query row: scores s_j = scale * q.k_j, max, p_j = exp(s_j - max), sum, out = p V /
// sum, lse = max + log(sum). Backward, per query row: D = rowsum(dout * out), P = exp(S - lse),
// dP = dout V^T, dS = P (dP - D); dQ = scale * dS K written at once; dK^T, dV^T accumulated over
// the rows in per-thread buffers and written at the end (no two threads share an (n, h)).
// The generated kernels (ops_cpu.cpp) call these with the storage formats (cpu_storage.h: F of
// qkv, out and their gradients, L of lse), the compute type C and the strides the generator
// derives from each op's declared shapes (mae_flash_layout).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#include "cpu_math.h"
#include "cpu_storage.h"
#include "flash_layout.h"

// OpenMP runs a call in parallel from this much work on (N H T T (E + 1)), as the generated loops
// do theirs (codegen/src/emit/cpu.ts, PAR_MIN_WORK).
static const int64_t MAE_FLASH_PAR_MIN_WORK = 32768;

// K^T and V^T of head (n, h) into kt, vt ([E][T], compute type); returns the offset of its keys
// in qkv (the values follow at + qkv_part).
template <class F, class C>
static inline int64_t mae_flash_stage_kv(C* kt, C* vt, const typename F::storage* qkv, int64_t n, int64_t h,
                                         int64_t T, int64_t E, const mae_flash_layout& ly) {
  const int64_t ko = n * ly.qkv_n + ly.qkv_part + h * ly.qkv_h, vo = ko + ly.qkv_part;
  for (int64_t j = 0; j < T; ++j)
    for (int64_t c = 0; c < E; ++c) {
      kt[c * T + j] = mae_cpu_load<C>(F(), qkv[ko + j * ly.qkv_t + c]);
      vt[c * T + j] = mae_cpu_load<C>(F(), qkv[vo + j * ly.qkv_t + c]);
    }
  return ko;
}

template <class F, class L, class C>
static void mae_flash_forward_cpu(typename F::storage* out, typename L::storage* lse, const typename F::storage* qkv,
                                  C scale, int64_t N, int64_t T, int64_t H, int64_t E, const mae_flash_layout& ly) {
#pragma omp parallel if (N * H * T * T * (E + 1) >= MAE_FLASH_PAR_MIN_WORK)
  {
    std::vector<C> kt((size_t)(E * T)), vt((size_t)(E * T)), p((size_t)T), cp((size_t)T);
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h) {
        mae_flash_stage_kv<F>(kt.data(), vt.data(), qkv, n, h, T, E, ly);
        C* __restrict__ pp = p.data();
        C* __restrict__ pc = cp.data();
        for (int64_t t = 0; t < T; ++t) {
          const int64_t qo = n * ly.qkv_n + t * ly.qkv_t + h * ly.qkv_h;
#pragma omp simd
          for (int64_t j = 0; j < T; ++j) pp[j] = (C)0;
          // the dot products over the head in chunks of 8 (partial sums added), not one long chain
          for (int64_t c0 = 0; c0 < E; c0 += 8) {
#pragma omp simd
            for (int64_t j = 0; j < T; ++j) pc[j] = (C)0;
            for (int64_t c = c0; c < std::min<int64_t>(c0 + 8, E); ++c) {
              const C qc = mae_cpu_load<C>(F(), qkv[qo + c]);
              const C* __restrict__ kr = kt.data() + c * T;
#pragma omp simd
              for (int64_t j = 0; j < T; ++j) pc[j] += qc * kr[j];
            }
#pragma omp simd
            for (int64_t j = 0; j < T; ++j) pp[j] += pc[j];
          }
          C mx = (C)(-INFINITY);
#pragma omp simd reduction(max : mx)
          for (int64_t j = 0; j < T; ++j) {
            pp[j] *= scale;
            mx = pp[j] > mx ? pp[j] : mx;
          }
          C z = (C)0;
#pragma omp simd reduction(+ : z)
          for (int64_t j = 0; j < T; ++j) {
            pp[j] = mae_cpu_exp(pp[j] - mx);
            z += pp[j];
          }
          const int64_t oo = n * ly.out_n + t * ly.out_t + h * ly.out_h;
          for (int64_t e = 0; e < E; ++e) {
            const C* __restrict__ vr = vt.data() + e * T;
            C a = (C)0;
#pragma omp simd reduction(+ : a)
            for (int64_t j = 0; j < T; ++j) a += pp[j] * vr[j];
            out[oo + e] = mae_cpu_store(F(), a / z);
          }
          lse[n * ly.lse_n + h * ly.lse_h + t] = mae_cpu_store(L(), mx + mae_cpu_log(z));
        }
      }
  }
}

template <class F, class L, class C>
static void mae_flash_backward_cpu(typename F::storage* dqkv, const typename F::storage* dout,
                                   const typename F::storage* qkv, const typename F::storage* out,
                                   const typename L::storage* lse, C scale, int64_t N, int64_t T, int64_t H, int64_t E,
                                   const mae_flash_layout& ly) {
#pragma omp parallel if (N * H * T * T * (E + 1) >= MAE_FLASH_PAR_MIN_WORK)
  {
    std::vector<C> kt((size_t)(E * T)), vt((size_t)(E * T)), dkt((size_t)(E * T)), dvt((size_t)(E * T));
    std::vector<C> q((size_t)E), dov((size_t)E), p((size_t)T), ds((size_t)T), cp((size_t)(2 * T));
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t ko = mae_flash_stage_kv<F>(kt.data(), vt.data(), qkv, n, h, T, E, ly), vo = ko + ly.qkv_part;
        std::fill(dkt.begin(), dkt.end(), (C)0);
        std::fill(dvt.begin(), dvt.end(), (C)0);
        C* __restrict__ pp = p.data();
        C* __restrict__ dsp = ds.data();
        for (int64_t i = 0; i < T; ++i) {
          const int64_t qo = n * ly.qkv_n + i * ly.qkv_t + h * ly.qkv_h;
          const int64_t oo = n * ly.out_n + i * ly.out_t + h * ly.out_h;
          C d = (C)0;
          for (int64_t c = 0; c < E; ++c) {
            q[c] = mae_cpu_load<C>(F(), qkv[qo + c]);
            dov[c] = mae_cpu_load<C>(F(), dout[oo + c]);
            d += dov[c] * mae_cpu_load<C>(F(), out[oo + c]);
          }
          const C l = mae_cpu_load<C>(L(), lse[n * ly.lse_n + h * ly.lse_h + i]);
#pragma omp simd
          for (int64_t j = 0; j < T; ++j) {
            pp[j] = (C)0;
            dsp[j] = (C)0;
          }
          C* __restrict__ sc = cp.data();
          C* __restrict__ pc = cp.data() + T;
          // S and dP over the head in chunks of 8 (partial sums added), not one long chain
          for (int64_t c0 = 0; c0 < E; c0 += 8) {
#pragma omp simd
            for (int64_t j = 0; j < T; ++j) {
              sc[j] = (C)0;
              pc[j] = (C)0;
            }
            for (int64_t c = c0; c < std::min<int64_t>(c0 + 8, E); ++c) {
              const C qc = q[c], dc = dov[c];
              const C* __restrict__ kr = kt.data() + c * T;
              const C* __restrict__ vr = vt.data() + c * T;
#pragma omp simd
              for (int64_t j = 0; j < T; ++j) {
                sc[j] += qc * kr[j];
                pc[j] += dc * vr[j];
              }
            }
#pragma omp simd
            for (int64_t j = 0; j < T; ++j) {
              pp[j] += sc[j];
              dsp[j] += pc[j];
            }
          }
#pragma omp simd
          for (int64_t j = 0; j < T; ++j) {
            pp[j] = mae_cpu_exp(pp[j] * scale - l);
            dsp[j] = pp[j] * (dsp[j] - d);
          }
          for (int64_t e = 0; e < E; ++e) {
            const C* __restrict__ kr = kt.data() + e * T;
            C* __restrict__ dkr = dkt.data() + e * T;
            C* __restrict__ dvr = dvt.data() + e * T;
            const C qe = q[e], de = dov[e];
            C dq = (C)0;
#pragma omp simd reduction(+ : dq)
            for (int64_t j = 0; j < T; ++j) {
              dq += dsp[j] * kr[j];
              dkr[j] += dsp[j] * qe;
              dvr[j] += pp[j] * de;
            }
            dqkv[qo + e] = mae_cpu_store(F(), dq * scale);
          }
        }
        for (int64_t j = 0; j < T; ++j)
          for (int64_t e = 0; e < E; ++e) {
            dqkv[ko + j * ly.qkv_t + e] = mae_cpu_store(F(), dkt[e * T + j] * scale);
            dqkv[vo + j * ly.qkv_t + e] = mae_cpu_store(F(), dvt[e * T + j]);
          }
      }
  }
}
