// api_copy.cpp (emulator): copies and memsets, as plain memmove/memset in stream order (now, or as a
// graph node of a capturing stream). The device side of a copy (by its kind; for cudaMemcpyDefault,
// by the allocation registry) must lie inside one live cudaMalloc allocation, else the call fails with
// cudaErrorInvalidValue; a replayed node whose memory was freed since the capture fails with
// cudaErrorIllegalAddress. A captured copy's host side must be cudaHostRegister'ed memory (CUDA
// cannot capture a copy from or to pageable memory: cudaErrorStreamCaptureUnsupported, and the
// capture is invalidated). cudaMemcpy and cudaMemset are synchronous: they use the legacy stream and
// count as potentially unsafe during a capture.
#include <cstring>

#include "api_internal.h"

using namespace mae_emu::detail;

namespace {

const char* kind_name(cudaMemcpyKind k) {
  switch (k) {
    case cudaMemcpyHostToHost: return "HostToHost";
    case cudaMemcpyHostToDevice: return "HostToDevice";
    case cudaMemcpyDeviceToHost: return "DeviceToHost";
    case cudaMemcpyDeviceToDevice: return "DeviceToDevice";
    case cudaMemcpyDefault: return "Default";
  }
  return "?";
}

// One copy: where to, where from, how much, and which sides are device memory.
struct Copy {
  void* dst;
  const void* src;
  size_t n;
  bool dst_device, src_device;
  int dst_dev = -1, src_dev = -1;  // required device of each side (-1: any)
};

// [p, p + n) must lie in one live allocation (on `device`, unless -1); caller holds mu().
bool in_allocation_locked(const void* p, size_t n, int device) {
  mae_emu::Allocation a;
  return find_allocation_locked(p, n, &a) && (device < 0 || a.device == device);
}

std::string range_problem(const char* api, const char* side, const void* p, size_t n, int device) {
  return format("%s: the %s [%p, +%zu) is not inside one live cudaMalloc allocation%s", api, side, p, n,
                device < 0 ? "" : format(" of device %d", device).c_str());
}

// The device sides of c lie in live allocations (caller holds mu()); `code` is the error otherwise.
cudaError_t check_copy_locked(const char* api, const Copy& c, cudaError_t code) {
  if (c.dst_device && !in_allocation_locked(c.dst, c.n, c.dst_dev))
    return fail(code, range_problem(api, "destination", c.dst, c.n, c.dst_dev));
  if (c.src_device && !in_allocation_locked(c.src, c.n, c.src_dev))
    return fail(code, range_problem(api, "source", c.src, c.n, c.src_dev));
  return cudaSuccess;
}

// A copy issued to a capturing stream may only touch registered host memory (caller holds mu()).
cudaError_t check_capturable_locked(const char* api, cudaStream_t stream, const Copy& c) {
  Target t;
  if (resolve_locked(api, stream, &t) != cudaSuccess || t.stream == nullptr || t.stream->capture == nullptr)
    return cudaSuccess;
  const bool dst_ok = c.dst_device || host_registered_locked(c.dst, c.n);
  const bool src_ok = c.src_device || host_registered_locked(c.src, c.n);
  if (dst_ok && src_ok) return cudaSuccess;
  invalidate_locked(t.stream->capture, format("%s with pageable host memory", api));
  return fail(cudaErrorStreamCaptureUnsupported,
              format("%s: the %s %p is pageable host memory, which a graph capture cannot copy (cudaHostRegister "
                     "it first); the capture is invalidated", api, dst_ok ? "source" : "destination",
                     dst_ok ? c.src : static_cast<const void*>(c.dst)));
}

// Fills in which sides of a copy of `kind` are device memory (caller holds mu()).
cudaError_t classify_locked(const char* api, cudaMemcpyKind kind, Copy* c) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return fail(cudaErrorInvalidMemcpyDirection, format("%s: unknown kind %d", api, static_cast<int>(kind)));
  if (kind == cudaMemcpyDefault) {
    c->dst_device = find_allocation_locked(c->dst, 1, nullptr);
    c->src_device = find_allocation_locked(c->src, 1, nullptr);
  } else {
    c->dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    c->src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  }
  return cudaSuccess;
}

// The operation: checks the memory again (a replay may come after a cudaFree) and copies.
std::function<cudaError_t()> copy_op(const char* api, Copy c) {
  return [api, c]() {
    {
      std::lock_guard<std::mutex> lock(mu());
      if (check_copy_locked(api, c, cudaErrorIllegalAddress) != cudaSuccess) {
        set_detail(std::string("replaying a graph: ") + mae_emu::last_error_detail() + " (freed since the capture?)");
        return cudaErrorIllegalAddress;
      }
    }
    std::memmove(c.dst, c.src, c.n);
    return cudaSuccess;
  };
}

// Validates an asynchronous copy and issues it to `stream`.
cudaError_t issue_copy(const char* api, const Copy& c, cudaStream_t stream, const std::string& name) {
  {
    std::unique_lock<std::mutex> lock(mu());
    if (cudaError_t e = check_copy_locked(api, c, cudaErrorInvalidValue)) {
      lock.unlock();
      return invalidate_on_error(stream, e);
    }
    if (cudaError_t e = check_capturable_locked(api, stream, c)) return e;
  }
  return submit(api, stream, NodeKind::Memcpy, name, copy_op(api, c));
}

// Legacy-stream rules of a synchronous call (caller holds mu()).
cudaError_t check_sync_call_locked(const char* api) {
  if (cudaError_t e = check_unsafe_locked(api)) return e;
  return check_legacy_locked(api, current_device());
}

}  // namespace

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  const char* api = "cudaMemcpyAsync";
  if (count == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: dst or src is NULL");
  Copy c{dst, src, count, false, false};
  {
    std::lock_guard<std::mutex> lock(mu());
    if (cudaError_t e = classify_locked(api, kind, &c)) return e;
  }
  return issue_copy(api, c, stream, format("%s %s %zu B", api, kind_name(kind), count));
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dstDevice, const void* src, int srcDevice, size_t count,
                                cudaStream_t stream) {
  const char* api = "cudaMemcpyPeerAsync";
  if (!valid_device(dstDevice) || !valid_device(srcDevice))
    return fail(cudaErrorInvalidDevice, format("%s: device %d or %d does not exist", api, dstDevice, srcDevice));
  if (count == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return fail(cudaErrorInvalidValue, "cudaMemcpyPeerAsync: dst or src is NULL");
  Copy c{dst, src, count, true, true, dstDevice, srcDevice};
  return issue_copy(api, c, stream, format("%s %d->%d %zu B", api, srcDevice, dstDevice, count));
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  const char* api = "cudaMemcpy";
  if (count == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return fail(cudaErrorInvalidValue, "cudaMemcpy: dst or src is NULL");
  Copy c{dst, src, count, false, false};
  {
    std::lock_guard<std::mutex> lock(mu());
    if (cudaError_t e = check_sync_call_locked(api)) return e;
    if (cudaError_t e = classify_locked(api, kind, &c)) return e;
    if (cudaError_t e = check_copy_locked(api, c, cudaErrorInvalidValue)) return e;
  }
  std::memmove(dst, src, count);
  return cudaSuccess;
}

namespace {
std::function<cudaError_t()> memset_op(void* p, int value, size_t n) {
  return [p, value, n]() {
    {
      std::lock_guard<std::mutex> lock(mu());
      if (!in_allocation_locked(p, n, -1)) {
        set_detail("replaying a graph: " + range_problem("cudaMemsetAsync", "destination", p, n, -1) +
                   " (freed since the capture?)");
        return cudaErrorIllegalAddress;
      }
    }
    std::memset(p, value, n);
    return cudaSuccess;
  };
}

cudaError_t check_memset(const char* api, void* p, size_t n) {
  if (p == nullptr) return fail(cudaErrorInvalidValue, format("%s: devPtr is NULL", api));
  std::lock_guard<std::mutex> lock(mu());
  if (!in_allocation_locked(p, n, -1)) return fail(cudaErrorInvalidValue, range_problem(api, "destination", p, n, -1));
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream) {
  const char* api = "cudaMemsetAsync";
  if (count == 0) return cudaSuccess;
  if (cudaError_t e = check_memset(api, devPtr, count)) return invalidate_on_error(stream, e);
  return submit(api, stream, NodeKind::Memset, format("%s %zu B", api, count), memset_op(devPtr, value, count));
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
  const char* api = "cudaMemset";
  if (count == 0) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(mu());
    if (cudaError_t e = check_sync_call_locked(api)) return e;
  }
  if (cudaError_t e = check_memset(api, devPtr, count)) return e;
  std::memset(devPtr, value, count);
  return cudaSuccess;
}
