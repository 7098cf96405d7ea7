// api_capture.cpp (emulator): stream capture, with CUDA's rules. cudaStreamBeginCapture starts a
// capture on a stream (never the legacy stream); other streams join it by waiting on an event
// recorded in it (fork) and must be waited for by the capture again before it ends (join), else
// cudaStreamEndCapture fails with cudaErrorStreamCaptureUnjoined. While a blocking stream captures,
// the legacy stream of its device is unusable (cudaErrorStreamCaptureImplicit). Potentially unsafe
// calls (cudaMalloc, cudaFree, synchronous copies, host registration) are refused per the calling
// thread's capture mode (cudaThreadExchangeStreamCaptureMode) and the modes captures began with.
// Every refusal invalidates the capture(s) concerned: cudaStreamEndCapture then returns
// cudaErrorStreamCaptureInvalidated and no graph, which is how code that synchronises inside a
// capture is caught. Also cudaStreamWaitEvent, whose only effect outside capture is none (work is
// done when issued).
#include <algorithm>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {

std::vector<Capture*> g_captures;
unsigned long long g_next_capture = 1;
thread_local cudaStreamCaptureMode t_mode = cudaStreamCaptureModeGlobal;

const char* mode_name(cudaStreamCaptureMode m) {
  return m == cudaStreamCaptureModeGlobal ? "global" : m == cudaStreamCaptureModeThreadLocal ? "thread-local" : "relaxed";
}

bool valid_mode(cudaStreamCaptureMode m) {
  return m == cudaStreamCaptureModeGlobal || m == cudaStreamCaptureModeThreadLocal || m == cudaStreamCaptureModeRelaxed;
}

Capture* capture_by_id_locked(unsigned long long id) {
  for (Capture* c : g_captures)
    if (c->id == id) return c;
  return nullptr;
}

// Ends capture c: its streams leave it and it is forgotten; returns its nodes.
NodeList finish_locked(Capture* c) {
  for (CUstream_st* s : c->streams) s->capture = nullptr, s->ops = 0, s->joined = 0;
  g_captures.erase(std::find(g_captures.begin(), g_captures.end(), c));
  NodeList nodes = std::move(c->nodes);
  delete c;
  return nodes;
}

// The first stream that joined c and has work the capture has not waited for, or nullptr.
const CUstream_st* unjoined_locked(const Capture* c) {
  for (const CUstream_st* s : c->streams)
    if (s != c->origin && s->ops > s->joined) return s;
  return nullptr;
}

}  // namespace

std::vector<Capture*>& captures_locked() { return g_captures; }

void reset_capture_mode() { t_mode = cudaStreamCaptureModeGlobal; }

void invalidate_locked(Capture* c, const std::string& why) {
  if (c->invalidated) return;
  c->invalidated = true;
  c->why = why;
  c->nodes.clear();
}

cudaError_t invalidate_on_error(cudaStream_t stream, cudaError_t e) {
  if (e == cudaSuccess || is_legacy(stream)) return e;
  std::lock_guard<std::mutex> lock(mu());
  if (stream_alive_locked(stream) && stream->capture != nullptr)
    invalidate_locked(stream->capture, format("a failed call (%s: %s)", cudaGetErrorName(e), mae_emu::last_error_detail()));
  return e;
}

cudaError_t check_legacy_locked(const char* api, int device) {
  const CUstream_st* found = nullptr;
  for (Capture* c : g_captures) {
    for (const CUstream_st* s : c->streams) {
      if (s->device != device || (s->flags & cudaStreamNonBlocking)) continue;
      found = s;
      invalidate_locked(c, format("%s on the legacy stream of device %d", api, device));
    }
  }
  if (found == nullptr) return cudaSuccess;
  return fail(cudaErrorStreamCaptureImplicit,
              format("%s: used the legacy (NULL) stream of device %d while stream %p there is capturing a graph "
                     "(the legacy stream would wait for it); the capture is invalidated",
                     api, device, static_cast<const void*>(found)));
}

cudaError_t check_unsafe_locked(const char* api) {
  if (t_mode == cudaStreamCaptureModeRelaxed) return cudaSuccess;
  const std::thread::id me = std::this_thread::get_id();
  const Capture* found = nullptr;
  for (Capture* c : g_captures) {
    const bool own = c->thread == me && c->mode != cudaStreamCaptureModeRelaxed;
    const bool other = t_mode == cudaStreamCaptureModeGlobal && c->thread != me && c->mode == cudaStreamCaptureModeGlobal;
    if (!own && !other) continue;
    found = c;
    invalidate_locked(c, format("%s during the capture", api));
  }
  if (found == nullptr) return cudaSuccess;
  return fail(cudaErrorStreamCaptureUnsupported,
              format("%s: not permitted while stream %p captures a graph in %s mode (%s); the capture is invalidated",
                     api, static_cast<const void*>(found->origin), mode_name(found->mode),
                     found->thread == me ? "begun by this thread" : "begun by another thread"));
}

}  // namespace detail
}  // namespace mae_emu

using namespace mae_emu::detail;

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  const char* api = "cudaStreamBeginCapture";
  if (is_legacy(stream))
    return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCapture: the legacy stream cannot be captured");
  if (!valid_mode(mode)) return fail(cudaErrorInvalidValue, format("%s: unknown mode %d", api, static_cast<int>(mode)));
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
  if (stream->capture != nullptr)
    return fail(cudaErrorIllegalState, format("%s: stream %p is already capturing", api, static_cast<void*>(stream)));
  auto* c = new Capture();
  c->id = g_next_capture++;
  c->origin = stream;
  c->mode = mode;
  c->thread = std::this_thread::get_id();
  c->device = stream->device;
  c->streams.push_back(stream);
  stream->capture = c, stream->ops = 0, stream->joined = 0;
  captures_locked().push_back(c);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* pGraph) {
  const char* api = "cudaStreamEndCapture";
  if (pGraph == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamEndCapture: pGraph is NULL");
  *pGraph = nullptr;
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
  Capture* c = t.stream ? t.stream->capture : nullptr;
  if (c == nullptr)
    return fail(cudaErrorIllegalState, format("%s: stream %p is not capturing", api, static_cast<void*>(stream)));
  if (c->origin != stream) {
    invalidate_locked(c, format("%s on stream %p, which joined the capture but did not begin it", api,
                                static_cast<void*>(stream)));
    return fail(cudaErrorStreamCaptureUnmatched,
                format("%s: stream %p joined a capture begun on stream %p; end it there", api, static_cast<void*>(stream),
                       static_cast<void*>(c->origin)));
  }
  if (c->mode != cudaStreamCaptureModeRelaxed && c->thread != std::this_thread::get_id())
    return fail(cudaErrorStreamCaptureWrongThread,
                format("%s: the %s-mode capture was begun by another thread", api, mode_name(c->mode)));
  const bool invalidated = c->invalidated;
  const std::string why = c->why;
  const CUstream_st* unjoined = unjoined_locked(c);
  const int device = c->device;
  NodeList nodes = finish_locked(c);
  if (invalidated)
    return fail(cudaErrorStreamCaptureInvalidated, format("%s: the capture was invalidated by %s", api, why.c_str()));
  if (unjoined != nullptr)
    return fail(cudaErrorStreamCaptureUnjoined,
                format("%s: stream %p joined the capture, and its last work was never waited for by the capture "
                       "(record an event on it and make the capturing stream wait for it)", api,
                       static_cast<const void*>(unjoined)));
  *pGraph = new_graph_locked(std::move(nodes), device);
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* pCaptureStatus) {
  const char* api = "cudaStreamIsCapturing";
  if (pCaptureStatus == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamIsCapturing: pCaptureStatus is NULL");
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
  if (t.stream == nullptr) {  // as CUDA: Implicit, without invalidating anything
    for (Capture* c : captures_locked())
      for (const CUstream_st* s : c->streams)
        if (s->device == t.device && !(s->flags & cudaStreamNonBlocking))
          return fail(cudaErrorStreamCaptureImplicit, format("%s: the legacy stream while a blocking stream captures", api));
    *pCaptureStatus = cudaStreamCaptureStatusNone;
    return cudaSuccess;
  }
  const Capture* c = t.stream->capture;
  *pCaptureStatus = c == nullptr ? cudaStreamCaptureStatusNone
                    : c->invalidated ? cudaStreamCaptureStatusInvalidated
                                     : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (mode == nullptr || !valid_mode(*mode))
    return fail(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: mode is NULL or unknown");
  std::swap(*mode, mae_emu::detail::t_mode);
  return cudaSuccess;
}

namespace {
// stream waits for event e, recorded in capture ec: stream joins ec (if not in it), and the stream e
// was recorded on counts as joined up to that record.
cudaError_t wait_captured_locked(const char* api, Target t, CUevent_st* e, Capture* ec) {
  if (t.stream == nullptr) {
    invalidate_locked(ec, format("%s: the legacy stream waited for an event recorded in the capture", api));
    return fail(cudaErrorStreamCaptureUnsupported,
                format("%s: the legacy stream cannot wait for an event recorded in a capture", api));
  }
  Capture* sc = t.stream->capture;
  if (sc != nullptr && sc != ec) {
    invalidate_locked(ec, format("%s merging two captures", api));
    invalidate_locked(sc, format("%s merging two captures", api));
    return fail(cudaErrorStreamCaptureMerge, format("%s: the stream and the event belong to different captures", api));
  }
  if (ec->invalidated)
    return fail(cudaErrorStreamCaptureInvalidated,
                format("%s: the event's capture was invalidated earlier: %s", api, ec->why.c_str()));
  if (sc == nullptr) {  // fork: the stream joins the capture
    t.stream->capture = ec, t.stream->ops = 0, t.stream->joined = 0;
    ec->streams.push_back(t.stream);
  }
  CUstream_st* from = e->capture_stream;
  if (from != t.stream && stream_alive_locked(from) && from->capture == ec)
    from->joined = std::max(from->joined, e->capture_ops);
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  const char* api = "cudaStreamWaitEvent";
  if (flags != cudaEventWaitDefault)
    return fail(cudaErrorInvalidValue, format("%s: flags 0x%x are not emulated", api, flags));
  std::lock_guard<std::mutex> lock(mu());
  Target t;
  if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
  if (!event_alive_locked(event))
    return fail(cudaErrorInvalidResourceHandle, format("%s: event %p is not a live event", api, static_cast<void*>(event)));
  if (t.stream == nullptr)
    if (cudaError_t e = check_legacy_locked(api, t.device)) return e;
  if (event->capture_id != 0) {
    Capture* ec = capture_by_id_locked(event->capture_id);
    if (ec != nullptr) return wait_captured_locked(api, t, event, ec);
    return fail(cudaErrorCapturedEvent,
                format("%s: event %p was last recorded in a capture that has ended", api, static_cast<void*>(event)));
  }
  if (t.stream != nullptr && t.stream->capture != nullptr && t.stream->capture->invalidated)
    return fail(cudaErrorStreamCaptureInvalidated, format("%s: the stream's capture was invalidated earlier: %s", api,
                                                          t.stream->capture->why.c_str()));
  return cudaSuccess;  // the work the event covers is done (everything runs when issued)
}
