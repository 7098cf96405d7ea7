// api_internal.h (emulator): what the runtime API stand-in's files (api_*.cpp) share: the objects
// behind the opaque handles (streams, events, graphs, captures), the one registry lock, the error
// helpers (per host thread last error and detail), the emulated devices' configuration, and the
// stream-order machinery (submit: run an operation now, or record it into the capture its stream
// belongs to). Private to src/; nothing outside the stand-in includes it.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mae_emu_api.h"

namespace mae_emu {
namespace detail {
struct Capture;
}
}  // namespace mae_emu

// A graph node: an operation recorded during a capture, replayed by cudaGraphLaunch.
enum class NodeKind { Kernel, Memcpy, Memset, Graph };
struct CUgraphNode_st {
  NodeKind kind;
  std::string name;
  std::function<cudaError_t()> run;  // on failure, also sets the detail (not the last error)
};
using NodeList = std::vector<std::shared_ptr<CUgraphNode_st>>;
struct CUgraph_st {
  NodeList nodes;
  int device = 0;
};
struct CUgraphExec_st {
  NodeList nodes;
  int device = 0;
};

struct CUstream_st {
  int device = 0;
  unsigned flags = 0;
  mae_emu::detail::Capture* capture = nullptr;  // the capture this stream is part of, if any
  unsigned long long ops = 0;                   // operations recorded into that capture
  unsigned long long joined = 0;                // of which another captured stream has waited for
};

struct CUevent_st {
  int device = 0;
  unsigned flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point time{};
  unsigned long long capture_id = 0;  // != 0: last recorded in that capture
  CUstream_st* capture_stream = nullptr;
  unsigned long long capture_ops = 0;  // the stream's operation count at that record
};

namespace mae_emu {
namespace detail {

// ---- lock and errors (api_error.cpp) ----
// Guards every registry and handle object. Never held while an operation runs.
std::mutex& mu();
// Sets the calling thread's last error and detail; returns e.
cudaError_t fail(cudaError_t e, const std::string& detail);
// Sets the last error only (the detail was set by whoever found the problem); returns e.
cudaError_t raise(cudaError_t e);
void set_detail(const std::string& detail);
// Counts detail changes on the calling thread (to tell whether run_grid described its fault).
unsigned long long detail_generation();
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string kib(size_t bytes);  // "48 KiB", "1.5 KiB", "12 B"
void reset_thread_errors();

// ---- devices (api_device.cpp) ----
struct Config {
  int devices = 1;
  cudaDeviceProp prop{};
  size_t memory_cap = 0;  // per device: bytes cudaMalloc may hand out
};
const Config& config();
void reload_config();
int current_device();
bool valid_device(int device);
void reset_thread_device();

// ---- memory (api_memory.cpp) ----
// The live allocation holding [p, p + bytes), if any (caller holds mu()).
bool find_allocation_locked(const void* p, size_t bytes, Allocation* out);
// Whether [p, p + bytes) lies in one cudaHostRegister'ed range (caller holds mu()).
bool host_registered_locked(const void* p, size_t bytes);
void reset_memory();
// The device address space (api_arena.cpp): whole pages for `bytes` (caller holds mu()), nullptr when
// the host has no memory or address space left; release takes the same size.
void* arena_allocate_locked(size_t bytes);
void arena_release_locked(void* p, size_t bytes);
bool in_arena(const void* p);

// ---- events and graphs (api_event.cpp, api_graph.cpp) ----
bool event_alive_locked(const CUevent_st* e);
// Registers a new graph holding `nodes` (caller holds mu()).
cudaGraph_t new_graph_locked(NodeList nodes, int device);
void reset_events();
void reset_graphs();

// ---- streams and capture (api_stream.cpp, api_capture.cpp) ----
struct Capture {
  unsigned long long id = 0;
  CUstream_st* origin = nullptr;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
  int device = 0;
  bool invalidated = false;
  std::string why;  // what invalidated it
  NodeList nodes;
  std::vector<CUstream_st*> streams;  // origin first, then the streams that joined
};
// The stream an operation is issued to: a stream object, or the legacy stream (nullptr) of `device`.
struct Target {
  CUstream_st* stream = nullptr;
  int device = 0;
};
bool is_legacy(cudaStream_t s);
// Checks a stream handle and resolves it (caller holds mu()); InvalidResourceHandle when unknown.
cudaError_t resolve_locked(const char* api, cudaStream_t s, Target* out);
bool stream_alive_locked(const CUstream_st* s);
// Work on the legacy stream of `device` while a blocking stream there captures: Implicit, and the
// capture is invalidated (caller holds mu()).
cudaError_t check_legacy_locked(const char* api, int device);
// Calls CUDA deems potentially unsafe during a capture (cudaMalloc, cudaFree, synchronous copies,
// cudaHostRegister): refused per the thread's capture mode (caller holds mu()).
cudaError_t check_unsafe_locked(const char* api);
void invalidate_locked(Capture* c, const std::string& why);
// A call issued to `stream` failed: if the stream is capturing, the capture is invalidated, as in
// CUDA. Returns e.
cudaError_t invalidate_on_error(cudaStream_t stream, cudaError_t e);
std::vector<Capture*>& captures_locked();
// Runs `op` now (returning its error, set as the last error) or, when the target stream is capturing,
// records it as a node. `name` names the node and the detail of failures.
cudaError_t submit(const char* api, cudaStream_t stream, NodeKind kind, const std::string& name,
                   std::function<cudaError_t()> op);
cudaError_t run_nodes(const NodeList& nodes);
void reset_streams();
void reset_capture_mode();

// ---- kernels (api_launch.cpp) ----
void reset_functions();

}  // namespace detail
}  // namespace mae_emu
