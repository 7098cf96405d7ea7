// cpu_isa.cpp: which build of the CPU kernels runs. On x86-64 ops_cpu.cpp is compiled three times:
// for the baseline, with AVX2+FMA, and for AVX-512 (F, BW, VL, DQ, with FMA). The best one the
// processor runs is chosen, unless MAE_CPU_ISA (default, avx2 or avx512) names another: to compare
// them, or to work around a problem. A value that is unknown, or names a build this processor cannot
// run, is an error the first time a kernel would run (mae_cpu_isa_error), not a silent fallback.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.h"

namespace {
constexpr const char* kNames[] = {"default", "avx2", "avx512"};
constexpr int kLevels = 3;

// The best build this processor runs: 0 baseline, 1 AVX2+FMA, 2 AVX-512.
int supported() {
#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA && (defined(__x86_64__) || defined(_M_X64))
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512 ? 2 : 1;
#else
  return 0;
#endif
}

int level_of(const char* name) {
  for (int i = 0; i < kLevels; i++) {
    if (std::strcmp(name, kNames[i]) == 0) return i;
  }
  return -1;
}

// -1 when the name is unknown, -2 when this processor or build cannot run it, else its level.
int resolve(const char* name) {
  const int want = level_of(name);
  if (want < 0) return -1;
  return want <= supported() ? want : -2;
}

// The environment's choice, or the best supported; an invalid MAE_CPU_ISA leaves the best one in
// use and its problem in g_env_error.
std::atomic<int> g_use{-1};
char g_env_error[160] = "";

int detect() {
  const char* force = std::getenv("MAE_CPU_ISA");
  if (force == nullptr || *force == '\0') return supported();
  const int level = resolve(force);
  if (level >= 0) return level;
  std::snprintf(g_env_error, sizeof g_env_error,
                level == -1 ? "MAE_CPU_ISA=%s is not a CPU kernel build (default, avx2 or avx512)"
                            : "MAE_CPU_ISA=%s: this processor or build cannot run those kernels (best: %s)",
                force, kNames[supported()]);
  return supported();
}
}  // namespace

extern "C" int mae_cpu_level(void) {
  int use = g_use.load(std::memory_order_relaxed);
  if (use < 0) {
    use = detect();
    g_use.store(use, std::memory_order_relaxed);
  }
  return use;
}

extern "C" const char* mae_cpu_isa_error(void) {
  mae_cpu_level();
  return g_env_error[0] ? g_env_error : nullptr;
}

extern "C" mae_status mae_cpu_force_isa(const char* isa) {
  if (isa == nullptr) {
    g_use.store(detect());
    return MAE_OK;
  }
  const int level = resolve(isa);
  if (level == -1) return mae_fail("mae_cpu_force_isa: unknown ISA '%s' (default, avx2 or avx512)", isa);
  if (level == -2) {
    return mae_fail("mae_cpu_force_isa: this processor or build has no %s kernels (best: %s)", isa,
                    kNames[supported()]);
  }
  g_use.store(level);
  return MAE_OK;
}

extern "C" const char* mae_cpu_isa(void) { return kNames[mae_cpu_level()]; }

extern "C" const char* mae_cpu_isa_best(void) { return kNames[supported()]; }

// The FMA probes of the three builds (src/cpu/cpu_peak.cpp, compiled with each).
double mae_cpu_fma_probe_default(double seconds, float* sink);
#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA
double mae_cpu_fma_probe_avx2(double seconds, float* sink);
double mae_cpu_fma_probe_avx512(double seconds, float* sink);
#endif

volatile float g_probe_sink;

extern "C" mae_status mae_cpu_peak_gflops(double seconds, double* gflops) {
  if (gflops == nullptr) return mae_fail("mae_cpu_peak_gflops: gflops is NULL");
  if (!(seconds > 0 && seconds <= 60)) return mae_fail("mae_cpu_peak_gflops: seconds must be in (0, 60], got %g", seconds);
  float sink = 0;
  switch (mae_cpu_level()) {
#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA
    case 2: *gflops = mae_cpu_fma_probe_avx512(seconds, &sink); break;
    case 1: *gflops = mae_cpu_fma_probe_avx2(seconds, &sink); break;
#endif
    default: *gflops = mae_cpu_fma_probe_default(seconds, &sink); break;
  }
  g_probe_sink = sink;  // the probe's result is used: its work is not dead code
  return MAE_OK;
}
