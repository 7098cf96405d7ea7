// cpu_peak.cpp: the CPU's measured floating-point peak for the build being compiled (compiled with
// ops_cpu.cpp once per ISA): every OpenMP thread runs independent chains of f32 multiply-adds on the
// GEMM's vector width (cpu_gemm.h), fused where the build has FMA, for about `seconds`; the FLOP
// count over the wall time is what `mae-cuda bench` divides CPU rows' model FLOP/s by (their MFU).
// 12 chains per thread cover the latency of two FMA pipes; the chains start apart so that the
// compiler cannot merge them.
#ifdef _OPENMP
#include <omp.h>
#endif

#include <chrono>
#include <cstdint>

#include "cpu_gemm.h"
#include "kernels.h"

namespace {
constexpr int kChains = 12;
constexpr int64_t kInner = 4096;  // multiply-adds per chain between clock reads
typedef float V __attribute__((vector_size(MAE_GEMM_VECTOR_BYTES)));
constexpr int kLanes = MAE_GEMM_VECTOR_BYTES / (int)sizeof(float);

// kInner x kChains vector multiply-adds; returns a value that depends on all of them. The empty
// volatile asm gives it a side effect, so that the compiler runs it at every call rather than once.
__attribute__((noinline)) float burst(float seed) {
  asm volatile("");
  V acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = V{} + (1.0f + seed * (float)(i + 1));
  const V mul = V{} + 0.99999994f, add = V{} + seed;
  for (int64_t it = 0; it < kInner; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; i++) acc[i] = acc[i] * mul + add;
  }
  V s = acc[0];
  for (int i = 1; i < kChains; i++) s += acc[i];
  return s[0];
}
}  // namespace

/** GFLOP/s of every thread together, measured for about `seconds`; *sink keeps the work alive. */
double MAE_CPU_FN(mae_cpu_fma_probe)(double seconds, float* sink) {
  const auto start = std::chrono::steady_clock::now();
  int64_t bursts = 0;
  float total = 0;
#pragma omp parallel reduction(+ : bursts, total)
  {
#ifdef _OPENMP
    const float seed = 1e-7f * (float)(omp_get_thread_num() + 1);
#else
    const float seed = 1e-7f;
#endif
    for (;;) {
      total += burst(seed);
      bursts++;
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (t >= seconds) break;
    }
  }
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  *sink = total;
  return (double)bursts * kInner * kChains * kLanes * 2 / t / 1e9;
}
