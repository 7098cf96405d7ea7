// nccl.cpp: NCCL loaded at run time with dlopen/dlsym (no NCCL header or library is needed to
// build): mae_nccl_load (once per process, thread-safe; its error names every path tried and why),
// the version and unique id, communicators (init on a CUDA device, destroy, abort, async error)
// and the collectives data-parallel training needs: in-place all-reduce (sum/avg, f32/bf16) and
// broadcast, enqueued on a stream or on the device's current stream (so CUDA graphs capture them).
// Communicators and collectives need a CUDA build; a CPU-only build says so.
#include <dlfcn.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime_impl.h"

namespace {

// The parts of nccl.h used here (ABI-stable across NCCL 2.x).
struct ncclComm;
typedef ncclComm* ncclComm_t;
typedef int ncclResult_t;  // ncclSuccess = 0
struct ncclUniqueId {
  char internal[MAE_NCCL_UNIQUE_ID_BYTES];
};
constexpr int ncclUint8 = 1, ncclFloat32 = 7, ncclBfloat16 = 9;  // ncclDataType_t
constexpr int ncclSum = 0, ncclAvg = 4;                          // ncclRedOp_t
constexpr int kNccl2_10 = 21000;  // ncclAvg and ncclBfloat16 appeared in NCCL 2.10

struct Api {
  std::string path;
  int version = 0;
  ncclResult_t (*GetVersion)(int*);
  ncclResult_t (*GetUniqueId)(ncclUniqueId*);
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*CommDestroy)(ncclComm_t);
  ncclResult_t (*CommAbort)(ncclComm_t);
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*);
  ncclResult_t (*AllReduce)(const void*, void*, size_t, int, int, ncclComm_t, void*);
  ncclResult_t (*Broadcast)(const void*, void*, size_t, int, int, ncclComm_t, void*);
  ncclResult_t (*GroupStart)();
  ncclResult_t (*GroupEnd)();
  const char* (*GetErrorString)(ncclResult_t);
  const char* (*GetLastError)(ncclComm_t);  // NCCL >= 2.13; nullptr before
};

std::mutex g_load_mutex;
Api g_api;                           // written once under g_load_mutex, before g_loaded
std::atomic<const Api*> g_loaded{nullptr};

const char kLib[] = "libnccl.so.2";

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> default_candidates() {
  std::vector<std::string> out;
  if (const char* p = std::getenv("MAE_NCCL_PATH"); p != nullptr && *p != '\0')
    out.push_back(is_dir(p) ? std::string(p) + "/" + kLib : std::string(p));
  if (const char* h = std::getenv("NCCL_HOME"); h != nullptr && *h != '\0')
    out.push_back(std::string(h) + "/lib/" + kLib);
  out.push_back(kLib);
  return out;
}

std::vector<std::string> split_paths(const char* list) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* c = list;; ++c) {
    if (*c == ':' || *c == '\0') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      if (*c == '\0') break;
    } else {
      cur += *c;
    }
  }
  return out;
}

template <typename F>
bool resolve(void* lib, const char* name, F& fn, std::string& missing) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (fn == nullptr && missing.empty()) missing = name;
  return fn != nullptr;
}

// Loads and resolves path into api; returns "" or why not.
std::string try_load(const std::string& path, Api& api) {
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    std::string msg = why != nullptr ? why : "dlopen failed";
    if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);  // dlerror repeats the path
    return msg;
  }
  std::string missing;
  resolve(lib, "ncclGetVersion", api.GetVersion, missing);
  resolve(lib, "ncclGetUniqueId", api.GetUniqueId, missing);
  resolve(lib, "ncclCommInitRank", api.CommInitRank, missing);
  resolve(lib, "ncclCommDestroy", api.CommDestroy, missing);
  resolve(lib, "ncclCommAbort", api.CommAbort, missing);
  resolve(lib, "ncclCommGetAsyncError", api.CommGetAsyncError, missing);
  resolve(lib, "ncclAllReduce", api.AllReduce, missing);
  resolve(lib, "ncclBroadcast", api.Broadcast, missing);
  resolve(lib, "ncclGroupStart", api.GroupStart, missing);
  resolve(lib, "ncclGroupEnd", api.GroupEnd, missing);
  resolve(lib, "ncclGetErrorString", api.GetErrorString, missing);
  std::string optional;
  resolve(lib, "ncclGetLastError", api.GetLastError, optional);
  if (!missing.empty()) {
    dlclose(lib);
    return "loaded, but it has no " + missing + " (not NCCL 2.x?)";
  }
  int version = 0;
  if (api.GetVersion(&version) != 0) {
    dlclose(lib);
    return "loaded, but ncclGetVersion failed";
  }
  api.path = path;
  api.version = version;
  return "";  // the library stays loaded for the life of the process
}

void copy_out(const std::string& s, char* out, size_t len) {
  if (out == nullptr || len == 0) return;
  const size_t n = s.size() < len - 1 ? s.size() : len - 1;
  std::memcpy(out, s.data(), n);
  out[n] = '\0';
}

const Api* require_loaded(const char* fn) {
  const Api* api = g_loaded.load(std::memory_order_acquire);
  if (api == nullptr) mae_fail("%s: NCCL is not loaded; call mae_nccl_load first", fn);
  return api;
}

}  // namespace

struct mae_nccl_comm {
  ncclComm_t comm = nullptr;
  mae_device device{MAE_DEVICE_CUDA, 0};
  int world = 0;
  int rank = 0;
};

namespace {

// "<fn>: <call> failed: <ncclGetErrorString>[ (<ncclGetLastError>)]"
mae_status nccl_fail(const Api* api, ncclResult_t r, const char* fn, const char* call, ncclComm_t comm) {
  const char* detail = api->GetLastError != nullptr ? api->GetLastError(comm) : nullptr;
  if (detail != nullptr && *detail != '\0')
    return mae_fail("%s: %s failed: %s (%s)", fn, call, api->GetErrorString(r), detail);
  return mae_fail("%s: %s failed: %s", fn, call, api->GetErrorString(r));
}

// MAE_OK (and *api) when comm, t and s can run a collective on comm's device.
mae_status check_collective(const mae_nccl_comm* comm, const mae_tensor* t, const mae_stream* s, const char* fn,
                            const Api** api) {
  if (comm == nullptr || comm->comm == nullptr) return mae_fail("%s: comm is NULL", fn);
  if (t == nullptr) return mae_fail("%s: tensor is NULL", fn);
  if (!mae_rt::same_device(t->device, comm->device))
    return mae_fail("%s: the tensor is on %s but the communicator on %s", fn, mae_rt::device_str(t->device).c_str(),
                    mae_rt::device_str(comm->device).c_str());
  if (s != nullptr && !mae_rt::same_device(s->device, comm->device))
    return mae_fail("%s: the stream is on %s but the communicator on %s", fn, mae_rt::device_str(s->device).c_str(),
                    mae_rt::device_str(comm->device).c_str());
  *api = require_loaded(fn);
  return *api != nullptr ? MAE_OK : MAE_ERROR;
}

}  // namespace

extern "C" {

mae_status mae_nccl_load(const char* path_or_null, char* found, size_t found_len) {
  const char* fn = "mae_nccl_load";
  copy_out("", found, found_len);
  const bool explicit_paths = path_or_null != nullptr && *path_or_null != '\0';
  const std::vector<std::string> candidates = explicit_paths ? split_paths(path_or_null) : default_candidates();
  std::lock_guard<std::mutex> lock(g_load_mutex);
  if (const Api* api = g_loaded.load(std::memory_order_acquire)) {
    bool named = !explicit_paths;
    for (const auto& c : candidates) named = named || c == api->path;
    if (!named)
      return mae_fail("%s: NCCL is already loaded from %s; a process loads it once (asked for %s)", fn,
                      api->path.c_str(), path_or_null);
    copy_out(api->path, found, found_len);
    return MAE_OK;
  }
  // Group the candidates by why they failed: "<why>: <path>, <path>; <why>: <path>".
  std::vector<std::pair<std::string, std::string>> reasons;
  for (const auto& c : candidates) {
    Api api{};
    std::string why = try_load(c, api);
    if (why.empty()) {
      g_api = std::move(api);
      g_loaded.store(&g_api, std::memory_order_release);
      copy_out(g_api.path, found, found_len);
      return MAE_OK;
    }
    bool grouped = false;
    for (auto& r : reasons)
      if (r.first == why) r.second += ", " + c, grouped = true;
    if (!grouped) reasons.emplace_back(why, c);
  }
  std::string tried;
  for (const auto& r : reasons) tried += (tried.empty() ? "" : "; ") + r.first + ": " + r.second;
  return mae_fail("%s: no NCCL library could be loaded from the %zu path(s) tried (%s). Install NCCL 2.x "
                  "(e.g. the nvidia-nccl-cu12 wheel that comes with PyTorch) or set MAE_NCCL_PATH to "
                  "libnccl.so.2 or its folder",
                  fn, candidates.size(), tried.empty() ? "no paths given" : tried.c_str());
}

mae_status mae_nccl_version(int* version) {
  const Api* api = require_loaded("mae_nccl_version");
  if (api == nullptr) return MAE_ERROR;
  if (version != nullptr) *version = api->version;
  return MAE_OK;
}

mae_status mae_nccl_unique_id(unsigned char out[MAE_NCCL_UNIQUE_ID_BYTES]) {
  const char* fn = "mae_nccl_unique_id";
  if (out == nullptr) return mae_fail("%s: out is NULL", fn);
  const Api* api = require_loaded(fn);
  if (api == nullptr) return MAE_ERROR;
  ncclUniqueId id;
  ncclResult_t r = api->GetUniqueId(&id);
  if (r != 0) return nccl_fail(api, r, fn, "ncclGetUniqueId", nullptr);
  std::memcpy(out, id.internal, sizeof id.internal);
  return MAE_OK;
}

const char* mae_nccl_error_string(int result) {
  const Api* api = g_loaded.load(std::memory_order_acquire);
  return api != nullptr ? api->GetErrorString(result) : "(NCCL is not loaded)";
}

mae_device mae_nccl_comm_device(const mae_nccl_comm* comm) {
  return comm != nullptr ? comm->device : mae_device{MAE_DEVICE_CPU, 0};
}

mae_status mae_nccl_comm_async_error(mae_nccl_comm* comm, int* result) {
  const char* fn = "mae_nccl_comm_async_error";
  if (comm == nullptr || comm->comm == nullptr) return mae_fail("%s: comm is NULL", fn);
  if (result == nullptr) return mae_fail("%s: result is NULL", fn);
  const Api* api = require_loaded(fn);
  if (api == nullptr) return MAE_ERROR;
  ncclResult_t async = 0;
  ncclResult_t r = api->CommGetAsyncError(comm->comm, &async);
  if (r != 0) return nccl_fail(api, r, fn, "ncclCommGetAsyncError", comm->comm);
  *result = async;
  return MAE_OK;
}

// destroy and abort free the handle whatever NCCL says (the communicator is unusable either way).
mae_status mae_nccl_comm_destroy(mae_nccl_comm* comm) {
  if (comm == nullptr) return MAE_OK;
  const Api* api = g_loaded.load(std::memory_order_acquire);
  ncclResult_t r = 0;
  if (api != nullptr && comm->comm != nullptr) r = api->CommDestroy(comm->comm);
  delete comm;
  return r == 0 ? MAE_OK : mae_fail("mae_nccl_comm_destroy: ncclCommDestroy failed: %s", api->GetErrorString(r));
}

mae_status mae_nccl_comm_abort(mae_nccl_comm* comm) {
  if (comm == nullptr) return MAE_OK;
  const Api* api = g_loaded.load(std::memory_order_acquire);
  ncclResult_t r = 0;
  if (api != nullptr && comm->comm != nullptr) r = api->CommAbort(comm->comm);
  delete comm;
  return r == 0 ? MAE_OK : mae_fail("mae_nccl_comm_abort: ncclCommAbort failed: %s", api->GetErrorString(r));
}

mae_status mae_nccl_comm_init(mae_nccl_comm** out, int world, int rank, const unsigned char id[MAE_NCCL_UNIQUE_ID_BYTES],
                              mae_device device) {
  const char* fn = "mae_nccl_comm_init";
  if (out == nullptr) return mae_fail("%s: out is NULL", fn);
  *out = nullptr;
  if (world < 1) return mae_fail("%s: world must be at least 1, got %d", fn, world);
  if (rank < 0 || rank >= world) return mae_fail("%s: rank must be in [0, %d) for a world of %d, got %d", fn, world, world, rank);
  if (id == nullptr) return mae_fail("%s: id is NULL (make it with mae_nccl_unique_id on one rank)", fn);
  if (device.type != MAE_DEVICE_CUDA)
    return mae_fail("%s: NCCL communicators need a CUDA device, got %s", fn, mae_rt::device_str(device).c_str());
  if (mae_rt::check_device(device, fn) != MAE_OK) return MAE_ERROR;
#ifdef MAE_WITH_CUDA
  const Api* api = require_loaded(fn);
  if (api == nullptr) return MAE_ERROR;
  mae_rt::DeviceGuard guard(device.index);  // NCCL binds the communicator to the current device
  if (guard.status() != cudaSuccess) return mae_rt::cuda_fail(guard.status(), fn, "cudaSetDevice");
  ncclUniqueId uid;
  std::memcpy(uid.internal, id, sizeof uid.internal);
  ncclComm_t comm = nullptr;
  ncclResult_t r = api->CommInitRank(&comm, world, uid, rank);
  if (r != 0) return nccl_fail(api, r, fn, "ncclCommInitRank", comm);
  *out = new mae_nccl_comm{comm, device, world, rank};
  return MAE_OK;
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_nccl_group_start(void) {
  const Api* api = require_loaded("mae_nccl_group_start");
  if (api == nullptr) return MAE_ERROR;
  ncclResult_t r = api->GroupStart();
  return r == 0 ? MAE_OK : nccl_fail(api, r, "mae_nccl_group_start", "ncclGroupStart", nullptr);
}

mae_status mae_nccl_group_end(void) {
  const Api* api = require_loaded("mae_nccl_group_end");
  if (api == nullptr) return MAE_ERROR;
  ncclResult_t r = api->GroupEnd();
  return r == 0 ? MAE_OK : nccl_fail(api, r, "mae_nccl_group_end", "ncclGroupEnd", nullptr);
}

mae_status mae_nccl_all_reduce(mae_nccl_comm* comm, mae_tensor* inout, int op, mae_stream* stream) {
  const char* fn = "mae_nccl_all_reduce";
  if (op != MAE_NCCL_SUM && op != MAE_NCCL_AVG) return mae_fail("%s: op must be 0 (sum) or 1 (avg), got %d", fn, op);
  const Api* api = nullptr;
  if (check_collective(comm, inout, stream, fn, &api) != MAE_OK) return MAE_ERROR;
  if (inout->dtype != MAE_F32 && inout->dtype != MAE_BF16)
    return mae_fail("%s: only f32 and bf16 tensors can be all-reduced, got %s", fn, mae_dtype_name(inout->dtype));
  if ((op == MAE_NCCL_AVG || inout->dtype == MAE_BF16) && api->version < kNccl2_10)
    return mae_fail("%s: %s needs NCCL >= 2.10, but %s is version %d", fn, op == MAE_NCCL_AVG ? "avg" : "bf16",
                    api->path.c_str(), api->version);
#ifdef MAE_WITH_CUDA
  mae_rt::DeviceGuard guard(comm->device.index);
  void* s = mae_launch_stream(stream, comm->device.index);
  void* data = mae_tensor_data(inout);
  ncclResult_t r = api->AllReduce(data, data, static_cast<size_t>(inout->numel),
                                  inout->dtype == MAE_F32 ? ncclFloat32 : ncclBfloat16,
                                  op == MAE_NCCL_SUM ? ncclSum : ncclAvg, comm->comm, s);
  return r == 0 ? MAE_OK : nccl_fail(api, r, fn, "ncclAllReduce", comm->comm);
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_nccl_broadcast(mae_nccl_comm* comm, mae_tensor* inout, int root, mae_stream* stream) {
  const char* fn = "mae_nccl_broadcast";
  const Api* api = nullptr;
  if (check_collective(comm, inout, stream, fn, &api) != MAE_OK) return MAE_ERROR;
  if (root < 0 || root >= comm->world)
    return mae_fail("%s: root must be in [0, %d) for a world of %d, got %d", fn, comm->world, comm->world, root);
#ifdef MAE_WITH_CUDA
  mae_rt::DeviceGuard guard(comm->device.index);
  void* s = mae_launch_stream(stream, comm->device.index);
  void* data = mae_tensor_data(inout);
  // as bytes: any dtype, the same on every rank
  ncclResult_t r = api->Broadcast(data, data, mae_tensor_nbytes(inout), ncclUint8, root, comm->comm, s);
  return r == 0 ? MAE_OK : nccl_fail(api, r, fn, "ncclBroadcast", comm->comm);
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

}  // extern "C"
