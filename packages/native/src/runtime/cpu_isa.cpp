// cpu_isa.cpp: which build of the CPU kernels runs. On x86-64 ops_cpu.cpp is compiled twice, for
// the baseline and with AVX2+FMA; the AVX2 one runs when the processor has AVX2 and FMA, unless
// MAE_CPU_ISA=default asks for the baseline (to compare the two, or to work around a problem).
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "internal.h"

namespace {
int detect() {
#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA && (defined(__x86_64__) || defined(_M_X64))
  const char* force = std::getenv("MAE_CPU_ISA");
  if (force && std::strcmp(force, "default") == 0) return 0;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#else
  return 0;
#endif
}
// -1: not decided yet; 0: baseline; 1: AVX2+FMA
std::atomic<int> g_use{-1};
}  // namespace

extern "C" int mae_cpu_use_avx2(void) {
  int use = g_use.load(std::memory_order_relaxed);
  if (use < 0) {
    use = detect();
    g_use.store(use, std::memory_order_relaxed);
  }
  return use;
}

extern "C" mae_status mae_cpu_force_isa(const char* isa) {
  if (isa == nullptr) {
    g_use.store(detect());
    return MAE_OK;
  }
  if (std::strcmp(isa, "default") == 0) {
    g_use.store(0);
    return MAE_OK;
  }
  if (std::strcmp(isa, "avx2") == 0) {
#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA && (defined(__x86_64__) || defined(_M_X64))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      g_use.store(1);
      return MAE_OK;
    }
#endif
    return mae_fail("mae_cpu_force_isa: this processor or build has no AVX2+FMA kernels");
  }
  return mae_fail("mae_cpu_force_isa: unknown ISA '%s' (default or avx2)", isa);
}

extern "C" const char* mae_cpu_isa(void) { return mae_cpu_use_avx2() ? "avx2" : "default"; }
