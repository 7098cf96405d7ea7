// cpu_threads.cpp: the OpenMP side of the CPU kernels: the thread count (mae_cpu_threads,
// mae_set_cpu_threads, bounded by mae_cpu_max_threads) and the wait policy OpenMP started with
// (mae_cpu_wait_policy). OpenMP reads OMP_WAIT_POLICY and OMP_NUM_THREADS when it is loaded, which
// is before any code of this library runs; the policy is read here at load too, so it is the one
// libgomp read (see docs/C_ABI.md, "CPU threads").
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <strings.h>

#include "runtime_impl.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {
std::atomic<int> g_cpu_threads{0};

// "passive" / "active" as libgomp parses OMP_WAIT_POLICY (case-insensitive, blanks around);
// "default" when it is unset or invalid (libgomp then spins a while before sleeping).
const char* parse_wait_policy(const char* v) {
  if (v == nullptr) return "default";
  while (std::isspace(static_cast<unsigned char>(*v))) ++v;
  for (const char* name : {"passive", "active"}) {
    const size_t n = std::strlen(name);
    if (strncasecmp(v, name, n) != 0) continue;
    const char* rest = v + n;
    while (std::isspace(static_cast<unsigned char>(*rest))) ++rest;
    if (*rest == '\0') return name;
  }
  return "default";
}

// Read once while the library loads, right after libgomp (a dependency) read the same variable.
const char* const g_wait_policy = parse_wait_policy(std::getenv("OMP_WAIT_POLICY"));

int processors() {
#ifdef _OPENMP
  const int n = omp_get_num_procs();  // the CPUs this process may run on (its affinity mask)
#else
  const int n = static_cast<int>(std::thread::hardware_concurrency());
#endif
  return n > 0 ? n : 1;
}
}  // namespace

extern "C" {

int mae_cpu_max_threads(void) { return 4 * processors(); }

int mae_cpu_threads(void) {
  int n = g_cpu_threads.load();
  if (n > 0) return n;
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

mae_status mae_set_cpu_threads(int n) {
  const int max = mae_cpu_max_threads();
  if (n < 1 || n > max) {
    return mae_fail("mae_set_cpu_threads: n must be from 1 to %d (4 x the %d processors this process may use), "
                    "got %d",
                    max, processors(), n);
  }
  g_cpu_threads.store(n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  return MAE_OK;
}

const char* mae_cpu_wait_policy(void) { return g_wait_policy; }

}  // extern "C"
