// api_event.cpp (emulator): events. Outside capture, cudaEventRecord takes a std::chrono::steady_clock
// timestamp at once (all earlier work on the stream is already done), so cudaEventQuery and
// cudaEventSynchronize succeed and cudaEventElapsedTime gives the milliseconds between two records.
// Inside a capture, as in CUDA, a record is not a graph node: it marks a point of the capturing
// stream that other streams can wait for (fork/join, see api_capture.cpp), and until the event is
// recorded again outside capture, querying, synchronising or timing it is cudaErrorCapturedEvent.
// Timing an event that was never recorded, or was created with cudaEventDisableTiming, is
// cudaErrorInvalidResourceHandle, as in CUDA.
#include <unordered_set>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {
std::unordered_set<const CUevent_st*> g_events;
}  // namespace

bool event_alive_locked(const CUevent_st* e) { return g_events.count(e) != 0; }

void reset_events() {
  std::lock_guard<std::mutex> lock(mu());
  for (const CUevent_st* e : g_events) delete e;
  g_events.clear();
}

}  // namespace detail
}  // namespace mae_emu

using namespace mae_emu::detail;

namespace {

// Checks an event handle (caller holds mu()).
cudaError_t check_event_locked(const char* api, cudaEvent_t event) {
  if (event_alive_locked(event)) return cudaSuccess;
  return fail(cudaErrorInvalidResourceHandle,
              format("%s: event %p is not a live event (destroyed, or never created)", api, static_cast<void*>(event)));
}

// Query and synchronize: fine unless the event was last recorded in a capture.
cudaError_t check_waitable(const char* api, cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_event_locked(api, event)) return e;
  if (event->capture_id != 0)
    return fail(cudaErrorCapturedEvent,
                format("%s: event %p was last recorded in a capturing stream", api, static_cast<void*>(event)));
  return cudaSuccess;
}

}  // namespace

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (event == nullptr) return fail(cudaErrorInvalidValue, "cudaEventCreate: event is NULL");
  if (flags & ~0x7u) return fail(cudaErrorInvalidValue, format("cudaEventCreateWithFlags: unknown flags 0x%x", flags));
  auto* e = new CUevent_st();
  e->device = current_device();
  e->flags = flags;
  std::lock_guard<std::mutex> lock(mu());
  g_events.insert(e);
  *event = e;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_event_locked("cudaEventDestroy", event)) return e;
  g_events.erase(event);
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  const char* api = "cudaEventRecord";
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_event_locked(api, event)) return e;
  Target t;
  if (cudaError_t e = resolve_locked(api, stream, &t)) return e;
  if (event->device != t.device)
    return fail(cudaErrorInvalidResourceHandle,
                format("%s: the event is on device %d but the stream on device %d", api, event->device, t.device));
  if (t.stream == nullptr) {
    if (cudaError_t e = check_legacy_locked(api, t.device)) return e;
  } else if (Capture* c = t.stream->capture) {
    if (c->invalidated)
      return fail(cudaErrorStreamCaptureInvalidated,
                  format("%s: the stream's capture was invalidated earlier: %s", api, c->why.c_str()));
    event->capture_id = c->id;
    event->capture_stream = t.stream;
    event->capture_ops = t.stream->ops;
    return cudaSuccess;
  }
  event->capture_id = 0;
  event->capture_stream = nullptr;
  event->recorded = true;
  event->time = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return check_waitable("cudaEventQuery", event); }

cudaError_t cudaEventSynchronize(cudaEvent_t event) { return check_waitable("cudaEventSynchronize", event); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  const char* api = "cudaEventElapsedTime";
  if (ms == nullptr) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: ms is NULL");
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_event_locked(api, start)) return e;
  if (cudaError_t e = check_event_locked(api, end)) return e;
  for (const CUevent_st* e : {start, end}) {
    const char* which = e == start ? "start" : "end";
    if (e->capture_id != 0)
      return fail(cudaErrorCapturedEvent, format("%s: the %s event was last recorded in a capturing stream", api, which));
    if (e->flags & cudaEventDisableTiming)
      return fail(cudaErrorInvalidResourceHandle,
                  format("%s: the %s event was created with cudaEventDisableTiming", api, which));
    if (!e->recorded)
      return fail(cudaErrorInvalidResourceHandle, format("%s: the %s event was never recorded", api, which));
  }
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}
