// device.cpp: build facts (version, CUDA architectures, OpenMP), device discovery and checks
// (mae_cuda_device_count/info, check_device), the CUDA device guard and CUDA error formatting.
// The OpenMP thread count and wait policy are in cpu_threads.cpp.
#include <cstdio>
#include <cstring>
#include <mutex>

#include "runtime_impl.h"

#ifndef MAE_VERSION_STRING
#define MAE_VERSION_STRING "0.0.0"
#endif
#ifdef MAE_CUDA_EMULATOR  // the kernels run as host C++ (packages/native/emu)
#undef MAE_CUDA_ARCHS_STRING
#define MAE_CUDA_ARCHS_STRING "emulated"
#endif
#ifndef MAE_CUDA_ARCHS_STRING
#define MAE_CUDA_ARCHS_STRING ""
#endif

namespace mae_rt {
namespace {
int g_cuda_count = 0;
[[maybe_unused]] char g_cuda_count_error[256] = "";

// Queries the CUDA device count once; with no driver or GPU that is 0 and the reason is kept.
void probe_cuda_devices() {
#ifdef MAE_WITH_CUDA
  static std::once_flag once;
  std::call_once(once, [] {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      std::snprintf(g_cuda_count_error, sizeof g_cuda_count_error, "%s: %s", cudaGetErrorName(err),
                    cudaGetErrorString(err));
      (void)cudaGetLastError();
      n = 0;
    }
    g_cuda_count = n;
  });
#endif
}
}  // namespace

std::string device_str(mae_device d) {
  if (d.type == MAE_DEVICE_CPU) return d.index == 0 ? "cpu" : "cpu:" + std::to_string(d.index);
  if (d.type == MAE_DEVICE_CUDA) return "cuda:" + std::to_string(d.index);
  return "device(type " + std::to_string(static_cast<int>(d.type)) + ")";
}

bool same_device(mae_device a, mae_device b) { return a.type == b.type && a.index == b.index; }

std::string bytes_str(size_t n) {
  char buf[64];
  const double gib = 1024.0 * 1024.0 * 1024.0;
  if (n >= gib) std::snprintf(buf, sizeof buf, "%.2f GiB", n / gib);
  else if (n >= 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f MiB", n / (1024.0 * 1024.0));
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.2f KiB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%zu B", n);
  return buf;
}

mae_status check_device(mae_device d, const char* fn) {
  if (d.type == MAE_DEVICE_CPU) {
    if (d.index != 0) return mae_fail("%s: there is one CPU device, cpu (index 0), not index %d", fn, d.index);
    return MAE_OK;
  }
  if (d.type != MAE_DEVICE_CUDA) {
    return mae_fail("%s: unknown device type %d (0 = cpu, 1 = cuda)", fn, static_cast<int>(d.type));
  }
#ifndef MAE_WITH_CUDA
  return mae_fail("%s: %s requested but mae-cuda was built without CUDA", fn, device_str(d).c_str());
#else
  probe_cuda_devices();
  if (g_cuda_count == 0) {
    return mae_fail("%s: %s requested but no CUDA device is available (no driver or GPU found: %s)", fn,
                    device_str(d).c_str(), g_cuda_count_error[0] ? g_cuda_count_error : "0 devices");
  }
  if (d.index < 0 || d.index >= g_cuda_count) {
    return mae_fail("%s: %s requested but only %d CUDA device%s present (cuda:0..cuda:%d)", fn,
                    device_str(d).c_str(), g_cuda_count, g_cuda_count == 1 ? " is" : "s are",
                    g_cuda_count - 1);
  }
  return MAE_OK;
#endif
}

#ifdef MAE_WITH_CUDA
mae_status cuda_fail(cudaError_t err, const char* fn, const char* what) {
  (void)cudaGetLastError();
  return mae_fail("%s: %s failed: %s (%s)", fn, what, cudaGetErrorName(err), cudaGetErrorString(err));
}

DeviceGuard::DeviceGuard(int index) {
  if (cudaGetDevice(&previous_) != cudaSuccess) {
    (void)cudaGetLastError();
    previous_ = -1;
  }
  if (previous_ != index) status_ = cudaSetDevice(index);
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (previous_ >= 0 && cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
}
#endif

}  // namespace mae_rt

extern "C" {

const char* mae_version(void) { return MAE_VERSION_STRING; }

int mae_cuda_compiled(void) {
#ifdef MAE_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

const char* mae_cuda_architectures(void) {
#ifdef MAE_WITH_CUDA
  return MAE_CUDA_ARCHS_STRING;
#else
  return "";
#endif
}

int mae_openmp_compiled(void) {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}

int mae_cuda_device_count(void) {
  mae_rt::probe_cuda_devices();
  return mae_rt::g_cuda_count;
}

mae_status mae_cuda_device_info(int index, char* name, size_t name_len, int* major, int* minor,
                                size_t* total_memory) {
  const mae_device d{MAE_DEVICE_CUDA, index};
  if (mae_rt::check_device(d, "mae_cuda_device_info") != MAE_OK) return MAE_ERROR;
#ifdef MAE_WITH_CUDA
  cudaDeviceProp prop;
  cudaError_t err = cudaGetDeviceProperties(&prop, index);
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, "mae_cuda_device_info", "cudaGetDeviceProperties");
  if (name != nullptr && name_len > 0) {
    std::strncpy(name, prop.name, name_len - 1);
    name[name_len - 1] = '\0';
  }
  if (major != nullptr) *major = prop.major;
  if (minor != nullptr) *minor = prop.minor;
  if (total_memory != nullptr) *total_memory = prop.totalGlobalMem;
  return MAE_OK;
#else
  (void)name, (void)name_len, (void)major, (void)minor, (void)total_memory;
  return MAE_ERROR;
#endif
}

}  // extern "C"
