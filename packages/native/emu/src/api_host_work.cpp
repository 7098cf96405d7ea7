// api_host_work.cpp (emulator): mae_emu_enqueue_host_work, the hook through which a library loaded
// at run time (the NCCL stand-in, emu/nccl) puts host work in a stream's order without linking
// against the emulator: it finds the hook with dlsym. Like every other operation it goes through
// submit: it runs fn(arg) now on the calling thread (work issued earlier on any stream is done), or,
// when the stream is capturing, it becomes a graph node that runs fn(arg) at every replay. The hook
// owns arg: free_arg(arg) is called once it is no longer needed (right after fn when run now, when
// the last graph holding the node is destroyed, or at once when the call fails).
#include <memory>

#include "api_internal.h"

namespace {

// Owns arg; frees it when the last copy of the node (graph, instance, capture) lets go.
struct HostWork {
  void (*fn)(void*);
  void* arg;
  void (*free_arg)(void*);
  HostWork(void (*f)(void*), void* a, void (*fr)(void*)) : fn(f), arg(a), free_arg(fr) {}
  HostWork(const HostWork&) = delete;
  HostWork& operator=(const HostWork&) = delete;
  ~HostWork() {
    if (free_arg != nullptr) free_arg(arg);
  }
};

}  // namespace

using namespace mae_emu::detail;

extern "C" __attribute__((visibility("default"))) int mae_emu_enqueue_host_work(void* stream, void (*fn)(void*),
                                                                                 void* arg, void (*free_arg)(void*)) {
  const char* api = "mae_emu_enqueue_host_work";
  auto work = std::make_shared<HostWork>(fn, arg, free_arg);
  if (fn == nullptr) return fail(cudaErrorInvalidValue, "mae_emu_enqueue_host_work: fn is NULL");
  const std::string name = format("host function %p", reinterpret_cast<void*>(fn));
  return submit(api, static_cast<cudaStream_t>(stream), NodeKind::Kernel, name, [work]() {
    work->fn(work->arg);
    return cudaSuccess;
  });
}
