// graph.cpp: the current stream of each CUDA device and CUDA graphs. Ops, copies and fills given
// no stream run on their device's current stream (the legacy default stream unless one was set),
// so code that never names a stream (the model) can be captured: mae_graph_capture_begin makes the
// capture stream current, routes the device's allocations to a private pool (allocator.cpp) and
// captures in relaxed mode; mae_graph_capture_end instantiates the graph and restores the previous
// current stream. The capture stream is current for the capturing thread only: work another thread
// issues with no stream meanwhile (a copy on a libuv worker) goes to the device's side stream, a
// non-blocking one (the legacy stream would join or break the capture), after an event recorded on
// the previous current stream just before the capture began, so it still follows the work issued
// before. A graph replays with mae_graph_launch; destroying it frees its pool's blocks.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "allocator.h"
#include "runtime_impl.h"

struct mae_graph {
  mae_device device{MAE_DEVICE_CUDA, 0};
  void* graph = nullptr;  // cudaGraph_t
  void* exec = nullptr;   // cudaGraphExec_t
  size_t nodes = 0;
  mae_rt::PrivatePool* pool = nullptr;
};

namespace mae_rt {
namespace {
constexpr int kMaxDevices = 64;
std::atomic<mae_stream*> g_current[kMaxDevices];
struct Capture {
  mae_stream* stream = nullptr;
  mae_stream* previous = nullptr;
  PrivatePool* pool = nullptr;
  std::thread::id owner;  // the capturing thread
  void* fence = nullptr;  // cudaEvent_t recorded on `previous` just before the capture began
};
Capture g_capture[kMaxDevices];  // one capture per device; written under g_capture_mu
std::mutex g_capture_mu;
mae_stream g_side[kMaxDevices];  // per device: where other threads' stream-less work goes during a capture
// Graphs destroyed while their device captures another (e.g. by a garbage collector's finalizer):
// destroying one synchronises the device, which would invalidate the capture, so it waits until
// the capture ends.
std::mutex g_deferred_mu;
std::vector<mae_graph*> g_deferred[kMaxDevices];
}  // namespace

#ifdef MAE_WITH_CUDA
// The side stream of `device`, after the capture's fence (caller holds g_capture_mu); nullptr if
// it cannot be made.
mae_stream* side_stream(int device, void* fence) {
  mae_stream& side = g_side[device];
  DeviceGuard guard(device);
  if (guard.status() != cudaSuccess) return nullptr;
  if (side.handle == nullptr) {
    cudaStream_t h = nullptr;
    if (cudaStreamCreateWithFlags(&h, cudaStreamNonBlocking) != cudaSuccess) return (void)cudaGetLastError(), nullptr;
    side.device = {MAE_DEVICE_CUDA, device};
    side.handle = h;
  }
  if (cudaStreamWaitEvent(static_cast<cudaStream_t>(side.handle), static_cast<cudaEvent_t>(fence), 0) != cudaSuccess)
    return (void)cudaGetLastError(), nullptr;
  return &side;
}
#endif

mae_stream* current_stream(int device) {
  if (device < 0 || device >= kMaxDevices) return nullptr;
#ifdef MAE_WITH_CUDA
  {
    std::lock_guard<std::mutex> lock(g_capture_mu);
    const Capture& c = g_capture[device];
    if (c.stream != nullptr && c.owner != std::this_thread::get_id()) {
      mae_stream* side = side_stream(device, c.fence);
      return side != nullptr ? side : c.previous;
    }
  }
#endif
  return g_current[device].load();
}

bool capturing(int device) {
  if (device < 0 || device >= kMaxDevices) return false;
  std::lock_guard<std::mutex> lock(g_capture_mu);
  return g_capture[device].stream != nullptr;
}

bool is_capture_stream(const mae_stream* s) {
  if (s == nullptr || s->device.type != MAE_DEVICE_CUDA || s->device.index < 0 || s->device.index >= kMaxDevices)
    return false;
  std::lock_guard<std::mutex> lock(g_capture_mu);
  return g_capture[s->device.index].stream == s;
}

// Destroys the graphs whose destruction waited for the capture on `device` to end.
void destroy_deferred(int device) {
  std::vector<mae_graph*> graphs;
  {
    std::lock_guard<std::mutex> lock(g_deferred_mu);
    graphs.swap(g_deferred[device]);
  }
  for (mae_graph* g : graphs) mae_graph_destroy(g);
}
}  // namespace mae_rt

extern "C" {

void* mae_launch_stream(const mae_stream* s, int device) {
  if (s != nullptr) return s->handle;
  mae_stream* cur = mae_rt::current_stream(device);
  return cur != nullptr ? cur->handle : nullptr;
}

mae_status mae_set_current_stream(mae_device device, mae_stream* s) {
  const char* fn = "mae_set_current_stream";
  if (device.type != MAE_DEVICE_CUDA) return s == nullptr ? MAE_OK : mae_fail("%s: CPU streams are synchronous; nothing to set", fn);
  if (mae_rt::check_device(device, fn) != MAE_OK) return MAE_ERROR;
  if (s != nullptr && !mae_rt::same_device(s->device, device))
    return mae_fail("%s: the stream is on %s, not %s", fn, mae_rt::device_str(s->device).c_str(),
                    mae_rt::device_str(device).c_str());
  if (mae_rt::capturing(device.index)) return mae_fail("%s: %s is capturing a graph", fn, mae_rt::device_str(device).c_str());
  mae_rt::g_current[device.index].store(s);
  return MAE_OK;
}

mae_status mae_graph_capture_begin(mae_stream* s) {
  const char* fn = "mae_graph_capture_begin";
  if (s == nullptr || s->device.type != MAE_DEVICE_CUDA || s->handle == nullptr)
    return mae_fail("%s: capturing a graph needs a CUDA stream (CUDA graphs do not exist on the CPU)", fn);
#ifdef MAE_WITH_CUDA
  const int d = s->device.index;
  if (mae_rt::capturing(d)) return mae_fail("%s: %s is already capturing a graph", fn, mae_rt::device_str(s->device).c_str());
  mae_rt::PrivatePool* pool = mae_rt::private_pool_begin(s->device);
  if (pool == nullptr) return mae_fail("%s: %s has an allocation pool in use", fn, mae_rt::device_str(s->device).c_str());
  mae_rt::DeviceGuard guard(d);
  mae_stream* previous = mae_rt::g_current[d].load();
  cudaEvent_t fence = nullptr;
  const char* what = "cudaSetDevice";
  cudaError_t err = guard.status();
  if (err == cudaSuccess) what = "cudaEventCreateWithFlags", err = cudaEventCreateWithFlags(&fence, cudaEventDisableTiming);
  if (err == cudaSuccess)
    what = "cudaEventRecord", err = cudaEventRecord(fence, previous ? static_cast<cudaStream_t>(previous->handle) : nullptr);
  if (err == cudaSuccess)
    what = "cudaStreamBeginCapture",
    err = cudaStreamBeginCapture(static_cast<cudaStream_t>(s->handle), cudaStreamCaptureModeRelaxed);
  if (err != cudaSuccess) {
    if (fence != nullptr) cudaEventDestroy(fence);
    mae_rt::private_pool_release(s->device, pool);
    return mae_rt::cuda_fail(err, fn, what);
  }
  {
    std::lock_guard<std::mutex> lock(mae_rt::g_capture_mu);
    mae_rt::g_capture[d] = {s, previous, pool, std::this_thread::get_id(), fence};
  }
  mae_rt::g_current[d].store(s);
  return MAE_OK;
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_graph_capture_end(mae_stream* s, mae_graph** out) {
  const char* fn = "mae_graph_capture_end";
  if (out != nullptr) *out = nullptr;
  if (s == nullptr || s->device.type != MAE_DEVICE_CUDA) return mae_fail("%s: not a CUDA stream", fn);
#ifdef MAE_WITH_CUDA
  const int d = s->device.index;
  if (!mae_rt::is_capture_stream(s)) return mae_fail("%s: this stream is not capturing", fn);
  mae_rt::Capture cap;
  {
    std::lock_guard<std::mutex> lock(mae_rt::g_capture_mu);
    cap = mae_rt::g_capture[d];
  }
  mae_rt::DeviceGuard guard(d);
  cudaGraph_t graph = nullptr;
  cudaError_t err = cudaStreamEndCapture(static_cast<cudaStream_t>(s->handle), &graph);
  {
    std::lock_guard<std::mutex> lock(mae_rt::g_capture_mu);
    mae_rt::g_capture[d] = {};
  }
  if (cap.fence != nullptr) cudaEventDestroy(static_cast<cudaEvent_t>(cap.fence));
  mae_rt::g_current[d].store(cap.previous);
  mae_rt::private_pool_end(s->device);
  mae_rt::destroy_deferred(d);
  if (err != cudaSuccess || out == nullptr) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    mae_rt::private_pool_release(s->device, cap.pool);
    if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaStreamEndCapture (an op in the step could not be captured)");
    return mae_fail("%s: out is NULL", fn);
  }
  cudaGraphExec_t exec = nullptr;
  err = cudaGraphInstantiate(&exec, graph, 0);
  if (err != cudaSuccess) {
    cudaGraphDestroy(graph);
    mae_rt::private_pool_release(s->device, cap.pool);
    return mae_rt::cuda_fail(err, fn, "cudaGraphInstantiate");
  }
  size_t nodes = 0;
  (void)cudaGraphGetNodes(graph, nullptr, &nodes);
  *out = new mae_graph{s->device, graph, exec, nodes, cap.pool};
  return MAE_OK;
#else
  (void)out;
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_graph_launch(mae_graph* g, mae_stream* s) {
  const char* fn = "mae_graph_launch";
  if (g == nullptr) return mae_fail("%s: graph is NULL", fn);
  if (s != nullptr && !mae_rt::same_device(s->device, g->device))
    return mae_fail("%s: the stream is on %s but the graph on %s", fn, mae_rt::device_str(s->device).c_str(),
                    mae_rt::device_str(g->device).c_str());
#ifdef MAE_WITH_CUDA
  mae_rt::DeviceGuard guard(g->device.index);
  cudaStream_t stream = static_cast<cudaStream_t>(mae_launch_stream(s, g->device.index));
  cudaError_t err = cudaGraphLaunch(static_cast<cudaGraphExec_t>(g->exec), stream);
  return err == cudaSuccess ? MAE_OK : mae_rt::cuda_fail(err, fn, "cudaGraphLaunch");
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

size_t mae_graph_num_nodes(const mae_graph* g) { return g != nullptr ? g->nodes : 0; }

void mae_graph_destroy(mae_graph* g) {
  if (g == nullptr) return;
#ifdef MAE_WITH_CUDA
  if (mae_rt::capturing(g->device.index)) {
    std::lock_guard<std::mutex> lock(mae_rt::g_deferred_mu);
    mae_rt::g_deferred[g->device.index].push_back(g);
    return;
  }
  mae_rt::DeviceGuard guard(g->device.index);
  // the graph may still be running: wait before its memory can be handed to other tensors
  (void)cudaDeviceSynchronize();
  cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(g->exec));
  cudaGraphDestroy(static_cast<cudaGraph_t>(g->graph));
  (void)cudaGetLastError();
#endif
  mae_rt::private_pool_release(g->device, g->pool);
  delete g;
}

}  // extern "C"
