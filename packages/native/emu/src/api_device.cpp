// api_device.cpp (emulator): the emulated devices. Each is an NVIDIA H100 SXM as CUDA describes it
// (compute capability 9.0, 132 SMs, 48 KiB of shared memory per block by default and 227 KiB opt-in,
// 1024 threads per block, 80 GiB). The environment can change that before first use (or before
// mae_emu::reset_for_tests): MAE_EMU_DEVICES (1..8 devices), MAE_EMU_SM_COUNT (SMs),
// MAE_EMU_SMEM_OPTIN (opt-in shared memory per block, bytes), MAE_EMU_MAX_GRID_Z (the grid's z
// limit, 65535: lowered, launchers that loop over z reach their second iteration at small sizes) and
// MAE_EMU_MEMORY_BYTES (memory per device, which caps cudaMalloc). The current device is per host thread, as in CUDA.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {

constexpr size_t kGiB = size_t(1) << 30;
constexpr size_t kDefaultSmem = 48 * 1024;
constexpr size_t kOptinSmem = 232448;  // 227 KiB

std::mutex g_config_mu;
bool g_loaded = false;
Config g_config;
thread_local int t_device = 0;

// An integer environment variable in [lo, hi]; `fallback` (with a warning) when set but invalid.
unsigned long long env_int(const char* name, unsigned long long fallback, unsigned long long lo,
                           unsigned long long hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (errno != 0 || *end != '\0' || n < lo || n > hi || v[0] == '-') {
    std::fprintf(stderr, "mae-emu: ignoring %s=%s (want an integer in [%llu, %llu]); using %llu\n", name, v, lo,
                 hi, fallback);
    return fallback;
  }
  return n;
}

cudaDeviceProp h100(int sms, size_t optin, size_t memory) {
  cudaDeviceProp p;
  std::memset(&p, 0, sizeof p);
  std::snprintf(p.name, sizeof p.name, "%s", "NVIDIA H100 80GB HBM3 (emulated)");
  p.totalGlobalMem = memory;
  p.sharedMemPerBlock = optin < kDefaultSmem ? optin : kDefaultSmem;
  p.sharedMemPerBlockOptin = optin;
  p.sharedMemPerMultiprocessor = 233472;
  p.reservedSharedMemPerBlock = 1024;
  p.regsPerBlock = 65536;
  p.regsPerMultiprocessor = 65536;
  p.warpSize = 32;
  p.memPitch = 2147483647;
  p.maxThreadsPerBlock = 1024;
  p.maxThreadsDim[0] = 1024, p.maxThreadsDim[1] = 1024, p.maxThreadsDim[2] = 64;
  p.maxGridSize[0] = 2147483647, p.maxGridSize[1] = 65535, p.maxGridSize[2] = 65535;
  p.totalConstMem = 65536;
  p.major = 9, p.minor = 0;
  p.textureAlignment = 512;
  p.multiProcessorCount = sms;
  p.canMapHostMemory = 1, p.concurrentKernels = 1, p.ECCEnabled = 1;
  p.asyncEngineCount = 3, p.unifiedAddressing = 1, p.managedMemory = 1;
  p.memoryBusWidth = 5120;
  p.l2CacheSize = 52428800, p.persistingL2CacheMaxSize = 82837504;
  p.maxThreadsPerMultiProcessor = 2048, p.maxBlocksPerMultiProcessor = 32;
  return p;
}

void load_locked() {
  Config c;
  c.devices = static_cast<int>(env_int("MAE_EMU_DEVICES", 1, 1, 8));
  const int sms = static_cast<int>(env_int("MAE_EMU_SM_COUNT", 132, 1, 1024));
  const size_t optin = env_int("MAE_EMU_SMEM_OPTIN", kOptinSmem, 1, size_t(1) << 30);
  c.memory_cap = env_int("MAE_EMU_MEMORY_BYTES", 80 * kGiB, 1, 1ull << 50);
  c.prop = h100(sms, optin, c.memory_cap);
  c.prop.maxGridSize[2] = static_cast<int>(env_int("MAE_EMU_MAX_GRID_Z", 65535, 1, 65535));
  g_config = c;
  g_loaded = true;
}

}  // namespace

const Config& config() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  if (!g_loaded) load_locked();
  return g_config;
}

void reload_config() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  load_locked();
}

int current_device() { return t_device; }

bool valid_device(int device) { return device >= 0 && device < config().devices; }

void reset_thread_device() { t_device = 0; }

}  // namespace detail

void reset_for_tests() {
  detail::reset_streams();
  detail::reset_memory();
  detail::reset_functions();
  detail::reload_config();
  detail::reset_thread_device();
  detail::reset_thread_errors();
  detail::reset_capture_mode();
}

}  // namespace mae_emu

using mae_emu::detail::config;
using mae_emu::detail::fail;
using mae_emu::detail::format;

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: count is NULL");
  *count = config().devices;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDevice: device is NULL");
  *device = mae_emu::detail::t_device;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (!mae_emu::detail::valid_device(device))
    return fail(cudaErrorInvalidDevice, format("cudaSetDevice: device %d does not exist (%d emulated device%s)",
                                               device, config().devices, config().devices == 1 ? "" : "s"));
  mae_emu::detail::t_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: prop is NULL");
  if (!mae_emu::detail::valid_device(device))
    return fail(cudaErrorInvalidDevice, format("cudaGetDeviceProperties: device %d does not exist", device));
  *prop = config().prop;
  return cudaSuccess;
}

namespace {
// The value of a device attribute; false for attributes the emulator does not know.
bool attribute(const cudaDeviceProp& p, cudaDeviceAttr attr, int* value) {
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; return true;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; return true;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; return true;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; return true;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; return true;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; return true;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; return true;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); return true;
    case cudaDevAttrWarpSize: *value = p.warpSize; return true;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; return true;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; return true;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; return true;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = static_cast<int>(p.sharedMemPerMultiprocessor); return true;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); return true;
  }
  return false;
}
}  // namespace

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (value == nullptr) return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: value is NULL");
  if (!mae_emu::detail::valid_device(device))
    return fail(cudaErrorInvalidDevice, format("cudaDeviceGetAttribute: device %d does not exist", device));
  if (!attribute(config().prop, attr, value))
    return fail(cudaErrorInvalidValue,
                format("cudaDeviceGetAttribute: attribute %d is not emulated", static_cast<int>(attr)));
  return cudaSuccess;
}
