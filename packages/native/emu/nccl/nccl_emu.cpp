// nccl_emu.cpp: libnccl_emu.so, a functional NCCL 2.x stand-in for the mae-cuda CUDA emulator, loaded
// like the real library (MAE_NCCL_PATH=/path/libnccl_emu.so). Ranks are processes (or threads) of
// one machine that meet in a POSIX shared memory segment named by the unique id (nccl_emu_shm.cpp).
// A collective is cut into chunks of at most one slot; for each chunk every rank writes its data
// into its slot of the step's bank (two banks alternate, so one barrier per chunk suffices), waits
// for every rank, checks that all issued the same collective, and then reduces all slots itself in
// rank order (nccl_emu_reduce.h: bit-identical results on every rank) or copies the root's slot.
// Streams: the collective is handed to the emulator's hook mae_emu_enqueue_host_work (looked up at
// run time), which runs it now in stream order or records it into the stream's capture, to run at
// every replay of the graph. Groups only nest: each collective runs when issued (every rank issues
// the same sequence). Failures (an abort, a dead peer, mismatched collectives, a timeout) are sticky
// on the communicator, recorded in the segment so that every rank fails, and reported by
// ncclCommGetAsyncError and ncclGetLastError.
#include <dlfcn.h>
#include <link.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "nccl_emu_internal.h"
#include "nccl_emu_reduce.h"

using namespace nccl_emu;

struct ncclComm {
  std::shared_ptr<State> st;
};

namespace {

constexpr char kHookName[] = "mae_emu_enqueue_host_work";
constexpr size_t kDefaultSlotBytes = size_t(1) << 20;
using HostWorkHook = int (*)(void* stream, void (*fn)(void*), void* arg, void (*free_arg)(void*));

thread_local std::string t_last_error;
thread_local int t_group_depth = 0;
std::atomic<HostWorkHook> g_hook{nullptr};

ncclResult_t thread_fail(ncclResult_t code, const std::string& why) {
  t_last_error = why;
  return code;
}

// ---- the emulator's hook ---------------------------------------------------------------------------

std::vector<std::string> loaded_objects() {
  std::vector<std::string> names;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* out) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0')
          static_cast<std::vector<std::string>*>(out)->push_back(info->dlpi_name);
        return 0;
      },
      &names);
  return names;
}

// The hook from the global scope, else from any loaded object (Node loads addons RTLD_LOCAL).
HostWorkHook find_hook() {
  if (HostWorkHook h = g_hook.load()) return h;
  void* sym = dlsym(RTLD_DEFAULT, kHookName);
  for (const std::string& name : loaded_objects()) {
    if (sym != nullptr) break;
    if (void* lib = dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
      sym = dlsym(lib, kHookName);
      dlclose(lib);
    }
  }
  g_hook.store(reinterpret_cast<HostWorkHook>(sym));
  return reinterpret_cast<HostWorkHook>(sym);
}

// ---- failures on a communicator ----------------------------------------------------------------------

void set_comm_text(State& s, const std::string& why) {
  std::lock_guard<std::mutex> lock(s.text_mu);
  s.last_error = why;
}

// Breaks the communicator (sticky), tells every rank through the segment, and says so once.
ncclResult_t comm_fail(State& s, ncclResult_t code, const std::string& why) {
  int none = 0;
  if (s.error.compare_exchange_strong(none, code)) {
    set_comm_text(s, why);
    std::fprintf(stderr, "nccl_emu: rank %d: %s: %s\n", s.rank, ncclGetErrorString(code), why.c_str());
  }
  fail_shared(s, code, why);
  t_last_error = why;
  return ncclResult_t(s.error.load());
}

// The communicator's sticky failure (also made the thread's last error), or ncclSuccess.
ncclResult_t comm_error(State& s) {
  const int e = s.error.load();
  if (e == 0) return ncclSuccess;
  std::lock_guard<std::mutex> lock(s.text_mu);
  return thread_fail(ncclResult_t(e), s.last_error);
}

// ---- collectives -------------------------------------------------------------------------------------

struct Work {
  std::shared_ptr<State> st;
  Kind kind;
  const void* send;
  void* recv;
  size_t count;
  int dtype, op, root;
};

const char* kind_name(uint32_t k) { return k == kAllReduce ? "ncclAllReduce" : "ncclBroadcast"; }

std::string desc_text(const StepDesc& d) {
  char buf[160];
  using ull = unsigned long long;
  std::snprintf(buf, sizeof buf, "%s(count=%llu, datatype=%u, op=%u, root=%u) chunk %llu", kind_name(d.kind),
                ull(d.count), d.dtype, d.op, d.root, ull(d.chunk));
  return buf;
}

bool same_desc(const StepDesc& a, const StepDesc& b) {  // field by field: the padding is not written
  return a.kind == b.kind && a.dtype == b.dtype && a.op == b.op && a.root == b.root && a.count == b.count &&
         a.chunk == b.chunk;
}

// After a step: every rank's desc must equal this rank's.
ncclResult_t check_descs(State& s, int bank, const StepDesc& mine) {
  for (int r = 0; r < s.nranks; ++r) {
    const StepDesc* d = s.desc(bank, r);
    if (same_desc(*d, mine)) continue;
    return comm_fail(s, ncclInvalidUsage, "mismatched collectives: rank " + std::to_string(r) + " issued " +
                                              desc_text(*d) + ", rank " + std::to_string(s.rank) + " issued " +
                                              desc_text(mine));
  }
  return ncclSuccess;
}

// One step: publish desc (the slot is written), wait for every rank, check their descs.
ncclResult_t step(State& s, const StepDesc& d, int* bank) {
  const uint64_t k = ++s.step;
  *bank = int(k & 1);
  *s.desc(*bank, s.rank) = d;
  publish(s, k);
  std::string why;
  if (ncclResult_t r = wait_all(s, k, &why)) return comm_fail(s, r, why);
  return check_descs(s, *bank, d);
}

ncclResult_t run_all_reduce(State& s, const Work& w) {
  const size_t esize = type_size(w.dtype), per = s.slot_bytes / esize;
  const ReduceFn reduce = reduce_for(w.dtype, w.op);
  std::vector<const char*> slots(size_t(s.nranks));
  for (size_t c = 0, first = 0; first < w.count; ++c, first += per) {
    const size_t len = std::min(per, w.count - first);
    const int bank = int((s.step + 1) & 1);
    std::memcpy(s.slot(bank, s.rank), static_cast<const char*>(w.send) + first * esize, len * esize);
    int b = 0;
    if (ncclResult_t r = step(s, StepDesc{w.kind, uint32_t(w.dtype), uint32_t(w.op), 0, w.count, c}, &b)) return r;
    for (int r = 0; r < s.nranks; ++r) slots[size_t(r)] = s.slot(b, r);
    reduce(slots.data(), s.nranks, static_cast<char*>(w.recv) + first * esize, len);
  }
  return ncclSuccess;
}

ncclResult_t run_broadcast(State& s, const Work& w) {
  const size_t bytes = w.count * type_size(w.dtype);
  const bool root = s.rank == w.root;
  for (size_t c = 0, first = 0; first < bytes; ++c, first += s.slot_bytes) {
    const size_t len = std::min(s.slot_bytes, bytes - first);
    const int bank = int((s.step + 1) & 1);
    if (root) std::memcpy(s.slot(bank, s.rank), static_cast<const char*>(w.send) + first, len);
    int b = 0;
    if (ncclResult_t r = step(s, StepDesc{w.kind, uint32_t(w.dtype), 0, uint32_t(w.root), w.count, c}, &b)) return r;
    if (!root) std::memcpy(static_cast<char*>(w.recv) + first, s.slot(b, w.root), len);
  }
  if (root && w.send != w.recv) std::memmove(w.recv, w.send, bytes);
  return ncclSuccess;
}

// Runs a collective (now, or at a graph replay); a failure is left on the communicator.
void run_work(void* arg) {
  const Work& w = *static_cast<Work*>(arg);
  State& s = *w.st;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.error.load() != 0) return;
  if (s.destroyed.load()) {
    s.error.store(ncclInvalidUsage);
    set_comm_text(s, std::string(kind_name(w.kind)) + " replayed after its communicator was destroyed");
    return;
  }
  if (w.kind == kAllReduce) run_all_reduce(s, w);
  else run_broadcast(s, w);
}

void free_work(void* arg) { delete static_cast<Work*>(arg); }

// Hands the collective to the emulator on `stream`; returns the communicator's state afterwards.
ncclResult_t issue(ncclComm_t comm, const Work& w, void* stream) {
  State& s = *comm->st;
  if (ncclResult_t r = comm_error(s)) return r;
  const HostWorkHook hook = find_hook();
  const int e = hook(stream, run_work, new Work(w), free_work);  // the hook owns the Work from here
  if (e != 0)
    return thread_fail(ncclUnhandledCudaError, std::string(kind_name(w.kind)) + ": the emulator refused the work on "
                                                   "stream (cudaError " + std::to_string(e) + ")");
  return comm_error(s);
}

ncclResult_t check_buffers(const void* send, void* recv, size_t count, bool need_send, const char* fn) {
  if (count == 0) return ncclSuccess;
  if (recv == nullptr || (need_send && send == nullptr))
    return thread_fail(ncclInvalidArgument, std::string(fn) + ": a buffer is NULL");
  return ncclSuccess;
}

// ---- init ---------------------------------------------------------------------------------------------

void random_bytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = getrandom(out + got, n - got, 0);
    if (r <= 0) break;
    got += size_t(r);
  }
  const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
  for (size_t i = got; i < n; ++i) out[i] = static_cast<unsigned char>((t >> (8 * (i % 8))) ^ (i * 131) ^ getpid());
}

size_t slot_bytes_from_env() {
  const double v = env_number("MAE_NCCL_EMU_SLOT_BYTES", double(kDefaultSlotBytes));
  const size_t b = v < 4096 ? 4096 : v > double(size_t(1) << 28) ? size_t(1) << 28 : size_t(v);
  return b & ~size_t(63);
}

ncclResult_t parse_id(const ncclUniqueId& id, IdFields* f) {
  std::memcpy(f, id.internal, sizeof *f);
  const size_t name_len = strnlen(f->name, sizeof f->name);
  if (std::memcmp(f->magic, kIdMagic, sizeof kIdMagic) != 0 || name_len == 0 || name_len == sizeof f->name ||
      f->name[0] != '/' || f->slot_bytes < 4096 || f->slot_bytes % 64 != 0)
    return thread_fail(ncclInvalidArgument, "ncclCommInitRank: the unique id was not made by libnccl_emu's "
                                            "ncclGetUniqueId (or the bytes were not passed on intact)");
  return ncclSuccess;
}

}  // namespace

extern "C" {

ncclResult_t ncclGetVersion(int* version) {
  if (version == nullptr) return thread_fail(ncclInvalidArgument, "ncclGetVersion: version is NULL");
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId) {
  if (uniqueId == nullptr) return thread_fail(ncclInvalidArgument, "ncclGetUniqueId: uniqueId is NULL");
  IdFields f{};
  std::memcpy(f.magic, kIdMagic, sizeof kIdMagic);
  f.slot_bytes = uint32_t(slot_bytes_from_env());
  unsigned char rnd[16];
  random_bytes(rnd, sizeof rnd);
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
  std::snprintf(f.name, sizeof f.name, "/mae-nccl-emu.%d.%lld.%s", int(getpid()), static_cast<long long>(time(nullptr)),
                hex);
  std::memset(uniqueId->internal, 0, sizeof uniqueId->internal);
  std::memcpy(uniqueId->internal, &f, sizeof f);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank) {
  if (comm == nullptr) return thread_fail(ncclInvalidArgument, "ncclCommInitRank: comm is NULL");
  *comm = nullptr;
  if (nranks < 1 || nranks > 4096 || rank < 0 || rank >= nranks)
    return thread_fail(ncclInvalidArgument, "ncclCommInitRank: rank " + std::to_string(rank) +
                                                " is not in [0, nranks) or nranks " + std::to_string(nranks) +
                                                " is not in [1, 4096]");
  IdFields id;
  if (ncclResult_t r = parse_id(commId, &id)) return r;
  if (find_hook() == nullptr)
    return thread_fail(ncclInvalidUsage, "libnccl_emu is the NCCL stand-in of the mae-cuda CUDA emulator and only "
                                         "works there (MAE_CUDA_EMULATOR=1): this process has no " +
                                             std::string(kHookName) + "; with a GPU, use the real libnccl.so.2");
  auto st = std::make_shared<State>();
  st->coll_timeout_s = env_number("MAE_NCCL_EMU_COLL_TIMEOUT_S", 1800);
  std::string why;
  if (ncclResult_t r = attach(*st, id, nranks, rank, env_number("MAE_NCCL_EMU_TIMEOUT_S", 120), &why))
    return thread_fail(r, "ncclCommInitRank (rank " + std::to_string(rank) + " of " + std::to_string(nranks) +
                              "): " + why);
  *comm = new ncclComm{std::move(st)};
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (comm == nullptr) return ncclSuccess;
  comm->st->destroyed.store(true);
  leave(*comm->st, kDestroyed);
  delete comm;  // the segment is unmapped once no recorded collective (or one in flight) holds the state
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) {
  if (comm == nullptr) return ncclSuccess;
  State& s = *comm->st;
  fail_shared(s, ncclRemoteError, "ncclCommAbort was called");
  int none = 0;
  s.error.compare_exchange_strong(none, ncclInvalidUsage);
  set_comm_text(s, "the communicator was aborted");
  s.destroyed.store(true);
  leave(s, kAborted);
  delete comm;  // a collective still running in another thread keeps the state alive, then fails
  return ncclSuccess;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError) {
  if (comm == nullptr || asyncError == nullptr)
    return thread_fail(ncclInvalidArgument, "ncclCommGetAsyncError: comm or asyncError is NULL");
  State& s = *comm->st;
  std::string why;
  if (s.error.load() == 0) {
    if (ncclResult_t r = shared_failure(s, &why)) comm_fail(s, r, why);
    else if (int dead = dead_peer(s); dead >= 0)
      comm_fail(s, ncclRemoteError, "rank " + std::to_string(dead) + " died without destroying its communicator");
  }
  *asyncError = ncclResult_t(s.error.load());
  return ncclSuccess;
}

ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
  if (comm == nullptr || count == nullptr) return thread_fail(ncclInvalidArgument, "ncclCommCount: NULL argument");
  *count = comm->st->nranks;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
  if (comm == nullptr || rank == nullptr) return thread_fail(ncclInvalidArgument, "ncclCommUserRank: NULL argument");
  *rank = comm->st->rank;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, ncclEmuStream_t stream) {
  if (comm == nullptr) return thread_fail(ncclInvalidArgument, "ncclAllReduce: comm is NULL");
  if (reduce_for(datatype, op) == nullptr)
    return thread_fail(ncclInvalidArgument, "ncclAllReduce: unknown datatype " + std::to_string(int(datatype)) +
                                                " or op " + std::to_string(int(op)));
  if (ncclResult_t r = check_buffers(sendbuff, recvbuff, count, true, "ncclAllReduce")) return r;
  if (count == 0) return ncclSuccess;
  return issue(comm, Work{comm->st, kAllReduce, sendbuff, recvbuff, count, datatype, op, 0}, stream);
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, ncclEmuStream_t stream) {
  if (comm == nullptr) return thread_fail(ncclInvalidArgument, "ncclBroadcast: comm is NULL");
  if (type_size(datatype) == 0)
    return thread_fail(ncclInvalidArgument, "ncclBroadcast: unknown datatype " + std::to_string(int(datatype)));
  if (root < 0 || root >= comm->st->nranks)
    return thread_fail(ncclInvalidArgument, "ncclBroadcast: root " + std::to_string(root) + " is not a rank");
  if (ncclResult_t r = check_buffers(sendbuff, recvbuff, count, comm->st->rank == root, "ncclBroadcast")) return r;
  if (count == 0) return ncclSuccess;
  return issue(comm, Work{comm->st, kBroadcast, sendbuff, recvbuff, count, datatype, 0, root}, stream);
}

ncclResult_t ncclGroupStart(void) {
  ++t_group_depth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd(void) {
  if (t_group_depth == 0) return thread_fail(ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
  --t_group_depth;
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error (see ncclGetLastError)";
    case ncclSystemError: return "unhandled system error (see ncclGetLastError)";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument (see ncclGetLastError)";
    case ncclInvalidUsage: return "invalid usage (see ncclGetLastError)";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
    default: return "unknown result code";
  }
}

// The communicator's failure, else the calling thread's last failure (nccl_emu's own words).
const char* ncclGetLastError(ncclComm_t comm) {
  if (comm != nullptr && comm->st->error.load() != 0) {
    std::lock_guard<std::mutex> lock(comm->st->text_mu);
    t_last_error = comm->st->last_error;
  }
  return t_last_error.c_str();
}

}  // extern "C"
