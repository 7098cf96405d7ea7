// workspace.cpp: scratch device memory for kernels that need more than their outputs (the GEMMs'
// split-K partial sums, gemm_async.cuh): one grow-only buffer per (device, CUDA stream), so that
// work queued on different streams never shares one. A buffer grows only outside a graph capture
// (a captured graph keeps the address it captured): work that needs more during a capture fails,
// naming the sizes, and is to run once before it is captured (the trainer's first step is eager).
// Growing waits for the stream's queued work, which may still read the old buffer, and frees it
// unless a capture was handed it: a graph may replay it later, so such a buffer is never freed (a
// bounded leak: one buffer per growth after a capture). The others are released with their
// stream (mae_stream_destroy), the default stream's at exit by the driver.
#include <map>
#include <mutex>
#include <utility>

#include "runtime_impl.h"

#ifdef MAE_WITH_CUDA
namespace {
struct Buffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  bool captured = false;  // handed to a graph capture: never freed
};
std::mutex g_mu;
// never destroyed: no cudaFree may run during static destruction
std::map<std::pair<int, void*>, Buffer>& buffers() {
  static auto* m = new std::map<std::pair<int, void*>, Buffer>();
  return *m;
}
constexpr size_t kGrain = size_t{1} << 20;  // sizes rounded up to whole MiB
}  // namespace

extern "C" mae_status mae_cuda_workspace(int device, void* stream, size_t bytes, void** out, const char* op) {
  *out = nullptr;
  std::lock_guard<std::mutex> lock(g_mu);
  Buffer& b = buffers()[{device, stream}];
  const auto s = static_cast<cudaStream_t>(stream);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(s, &status) != cudaSuccess) (void)cudaGetLastError();
  const bool capturing = status != cudaStreamCaptureStatusNone;
  if (bytes <= b.bytes) {
    b.captured = b.captured || capturing;
    *out = b.ptr;
    return MAE_OK;
  }
  if (capturing)
    return mae_fail("%s: needs %s of workspace on cuda:%d during a graph capture, where the stream has %s: run the "
                    "work once before capturing it",
                    op, mae_rt::bytes_str(bytes).c_str(), device, mae_rt::bytes_str(b.bytes).c_str());
  if (b.ptr != nullptr) {
    if (cudaStreamSynchronize(s) != cudaSuccess) (void)cudaGetLastError();
    if (!b.captured && cudaFree(b.ptr) != cudaSuccess) (void)cudaGetLastError();
    b = Buffer{};
  }
  const size_t want = (bytes + kGrain - 1) / kGrain * kGrain;
  const cudaError_t e = cudaMalloc(&b.ptr, want);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    b = Buffer{};
    return mae_fail("%s: cannot allocate %s of workspace on cuda:%d: %s", op, mae_rt::bytes_str(want).c_str(), device,
                    cudaGetErrorString(e));
  }
  b.bytes = want;
  *out = b.ptr;
  return MAE_OK;
}

namespace mae_rt {
void release_workspace(int device, void* stream) {
  std::lock_guard<std::mutex> lock(g_mu);
  const auto it = buffers().find({device, stream});
  if (it == buffers().end()) return;
  // the stream's queued work may still use it
  if (cudaStreamSynchronize(static_cast<cudaStream_t>(stream)) != cudaSuccess) (void)cudaGetLastError();
  if (it->second.ptr != nullptr && !it->second.captured && cudaFree(it->second.ptr) != cudaSuccess)
    (void)cudaGetLastError();
  buffers().erase(it);
}
}  // namespace mae_rt
#endif
