// runtime_impl.h: the runtime's private structures (tensor, storage, stream, event) and the helpers
// its .cpp files share (device checks and names, the CUDA device guard and error formatting).
// Only the runtime includes this; generated code and the addon use mae_cuda.h/internal.h.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "internal.h"

#ifdef MAE_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace mae_rt {

// A block from the caching allocator; returned to it when the last tensor using it goes away.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  mae_device device{MAE_DEVICE_CPU, 0};
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();
};

// "cpu" or "cuda:N".
std::string device_str(mae_device d);
// MAE_OK when d names a usable device; otherwise sets "<fn>: <why>" and returns MAE_ERROR.
mae_status check_device(mae_device d, const char* fn);
bool same_device(mae_device a, mae_device b);
// The device's current stream for the calling thread (nullptr: the legacy default stream; during
// another thread's capture, the side stream), and whether the device is capturing.
mae_stream* current_stream(int device);
bool capturing(int device);
// Whether s is the stream its device is capturing on.
bool is_capture_stream(const mae_stream* s);
// "1.50 GiB", "512 B" ...
std::string bytes_str(size_t n);
#ifdef MAE_WITH_CUDA
// Frees the workspace of a CUDA stream about to be destroyed (workspace.cpp).
void release_workspace(int device, void* stream);
#endif

#ifdef MAE_WITH_CUDA
// Sets "<fn>: <what> failed: <cudaErrorName> (<cudaGetErrorString>)", clears CUDA's sticky-free
// last error, and returns MAE_ERROR.
mae_status cuda_fail(cudaError_t err, const char* fn, const char* what);
// Makes a CUDA device current for a scope and restores the previous one afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
  cudaError_t status() const { return status_; }

 private:
  int previous_ = -1;
  cudaError_t status_ = cudaSuccess;
};
#endif

}  // namespace mae_rt

struct mae_tensor {
  std::atomic<int> refs{1};
  mae_dtype dtype = MAE_F32;
  int ndim = 0;
  int64_t shape[MAE_MAX_DIMS] = {};
  int64_t numel = 1;
  mae_device device{MAE_DEVICE_CPU, 0};
  std::shared_ptr<mae_rt::Storage> storage;
  size_t offset_bytes = 0;
};

struct mae_stream {
  mae_device device{MAE_DEVICE_CPU, 0};
  void* handle = nullptr;  // cudaStream_t for CUDA streams
};

struct mae_event {
  mae_device device{MAE_DEVICE_CPU, 0};
  void* handle = nullptr;  // cudaEvent_t for CUDA events
  bool recorded = false;
  double cpu_ms = 0;  // CPU events: steady-clock time of the last record
};
