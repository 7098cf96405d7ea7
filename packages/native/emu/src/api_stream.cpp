// api_stream.cpp (emulator): streams and stream order. Every operation runs synchronously on the
// calling thread when it is issued, so work on any stream is done, in issue order, by the time the
// call returns, and synchronising is a no-op, except during graph capture: an operation issued to a
// capturing stream becomes a graph node (submit), and synchronising a capturing stream, or a device
// with one, fails with cudaErrorStreamCaptureUnsupported and invalidates the capture, as in CUDA.
// The legacy default stream is nullptr (or cudaStreamLegacy) on the current device.
#include <unordered_set>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {
std::unordered_set<const CUstream_st*> g_streams;
}  // namespace

bool is_legacy(cudaStream_t s) { return s == nullptr || s == cudaStreamLegacy; }

bool stream_alive_locked(const CUstream_st* s) { return g_streams.count(s) != 0; }

cudaError_t resolve_locked(const char* api, cudaStream_t s, Target* out) {
  if (is_legacy(s)) {
    *out = Target{nullptr, current_device()};
    return cudaSuccess;
  }
  if (!stream_alive_locked(s))
    return fail(cudaErrorInvalidResourceHandle,
                format("%s: stream %p is not a live stream (destroyed, or never created)", api, static_cast<void*>(s)));
  *out = Target{s, s->device};
  return cudaSuccess;
}

cudaError_t submit(const char* api, cudaStream_t stream, NodeKind kind, const std::string& name,
                   std::function<cudaError_t()> op) {
  {
    std::lock_guard<std::mutex> lock(mu());
    Target t;
    if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
    if (t.stream == nullptr) {
      if (cudaError_t e = check_legacy_locked(api, t.device)) return e;
    } else if (Capture* c = t.stream->capture) {
      if (c->invalidated)
        return fail(cudaErrorStreamCaptureInvalidated,
                    format("%s (%s): the stream's capture was invalidated earlier: %s", api, name.c_str(), c->why.c_str()));
      c->nodes.push_back(std::make_shared<CUgraphNode_st>(CUgraphNode_st{kind, name, std::move(op)}));
      ++t.stream->ops;
      return cudaSuccess;
    }
  }
  return raise(op());
}

cudaError_t run_nodes(const NodeList& nodes) {
  for (const auto& n : nodes)
    if (cudaError_t e = n->run()) return e;
  return cudaSuccess;
}

void reset_streams() {
  reset_graphs();
  reset_events();
  std::lock_guard<std::mutex> lock(mu());
  for (Capture* c : captures_locked()) delete c;
  captures_locked().clear();
  for (const CUstream_st* s : g_streams) delete s;
  g_streams.clear();
}

}  // namespace detail
}  // namespace mae_emu

using namespace mae_emu::detail;

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (stream == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamCreate: stream is NULL");
  if (flags & ~unsigned(cudaStreamNonBlocking))
    return fail(cudaErrorInvalidValue, format("cudaStreamCreateWithFlags: unknown flags 0x%x", flags));
  auto* s = new CUstream_st();
  s->device = current_device();
  s->flags = flags;
  std::lock_guard<std::mutex> lock(mu());
  g_streams.insert(s);
  *stream = s;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (is_legacy(stream)) return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: the legacy stream");
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked("cudaStreamDestroy", stream, &t)) return e;
  if (Capture* c = stream->capture) {
    invalidate_locked(c, format("cudaStreamDestroy of capturing stream %p", static_cast<void*>(stream)));
    return fail(cudaErrorStreamCaptureUnsupported,
                format("cudaStreamDestroy: stream %p is capturing a graph; the capture is invalidated",
                       static_cast<void*>(stream)));
  }
  g_streams.erase(stream);
  delete stream;
  return cudaSuccess;
}

namespace {
// Synchronising (or querying) `stream`: fine unless it, or for the legacy stream a blocking stream
// of its device, is capturing.
cudaError_t sync_stream(const char* api, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
  if (t.stream == nullptr) return check_legacy_locked(api, t.device);
  if (Capture* c = t.stream->capture) {
    invalidate_locked(c, format("%s of the capturing stream %p", api, static_cast<void*>(stream)));
    return fail(cudaErrorStreamCaptureUnsupported,
                format("%s: stream %p is capturing a graph, and a capture cannot be waited for; the capture is "
                       "invalidated", api, static_cast<void*>(stream)));
  }
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaStreamSynchronize(cudaStream_t stream) { return sync_stream("cudaStreamSynchronize", stream); }

cudaError_t cudaStreamQuery(cudaStream_t stream) { return sync_stream("cudaStreamQuery", stream); }

cudaError_t cudaDeviceSynchronize() {
  std::lock_guard<std::mutex> lock(mu());
  const int device = current_device();
  const CUstream_st* found = nullptr;
  for (Capture* c : captures_locked()) {
    for (const CUstream_st* s : c->streams) {
      if (s->device != device) continue;
      found = s;
      invalidate_locked(c, format("cudaDeviceSynchronize on device %d", device));
    }
  }
  if (found == nullptr) return cudaSuccess;
  return fail(cudaErrorStreamCaptureUnsupported,
              format("cudaDeviceSynchronize: stream %p of device %d is capturing a graph; the capture is invalidated",
                     static_cast<const void*>(found), device));
}
