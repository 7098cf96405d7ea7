// nccl_emu_test.cpp: self-checking test of libnccl_emu.so (emu/nccl), the NCCL stand-in of the CUDA
// emulator, loaded with dlopen as mae-cuda's runtime loads NCCL. Worlds of 2 and 3 ranks are forked
// processes (and one world is two threads) that init a communicator from one unique id made before
// the fork, then check: all-reduce sum/avg/max of f32, bf16, fp16 and int64 (plus f64 sum, int32
// min) over several slots' worth of data, bit for bit against a rank-ordered reference, with every
// rank's result hash compared across ranks; broadcast from rank 1 (out of place and in place);
// in-place all-reduce; a group of all-reduces; collectives recorded by a "capturing" stream and
// replayed with new inputs; mismatched collectives failing on every rank; ncclCommAbort and a dead
// rank making the others' next collective fail fast; a stuck rank making it time out; a missing
// rank failing init after the (shortened) timeout. This binary provides mae_emu_enqueue_host_work (exported with -rdynamic):
// it runs the work at once, except on the fake stream kCapturing, where it records it for replay.
//   g++ -std=c++17 -O1 -g -fPIC -fvisibility=hidden -shared packages/native/emu/nccl/nccl_emu.cpp
//       packages/native/emu/nccl/nccl_emu_shm.cpp -o /tmp/libnccl_emu.so -lrt -lpthread -ldl
//   g++ -std=c++17 -O1 -g -rdynamic -I packages/native/emu/include -I packages/native/emu/nccl
//       packages/native/emu/test/nccl_emu_test.cpp -o /tmp/nccl_emu_test -ldl -lpthread
//   /tmp/nccl_emu_test /tmp/libnccl_emu.so
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "nccl_emu.h"
#include "nccl_emu_reduce.h"

// ---- the emulator's hook, as this test provides it --------------------------------------------------
namespace {
void* const kCapturing = reinterpret_cast<void*>(0xCA97);
struct Recorded {
  void (*fn)(void*);
  void* arg;
  void (*free_arg)(void*);
};
thread_local std::vector<Recorded> t_graph;  // what the capturing stream recorded on this thread
thread_local int t_freed = 0;  // nodes freed (graphs destroyed) on this thread
}  // namespace

extern "C" int mae_emu_enqueue_host_work(void* stream, void (*fn)(void*), void* arg, void (*free_arg)(void*)) {
  if (stream == kCapturing) {
    t_graph.push_back(Recorded{fn, arg, free_arg});
    return 0;
  }
  fn(arg);
  if (free_arg != nullptr) free_arg(arg);
  return 0;
}

namespace {

// ---- the library, through dlsym --------------------------------------------------------------------
struct Nccl {
  decltype(&ncclGetVersion) GetVersion;
  decltype(&ncclGetUniqueId) GetUniqueId;
  decltype(&ncclCommInitRank) CommInitRank;
  decltype(&ncclCommDestroy) CommDestroy;
  decltype(&ncclCommAbort) CommAbort;
  decltype(&ncclCommGetAsyncError) CommGetAsyncError;
  decltype(&ncclAllReduce) AllReduce;
  decltype(&ncclBroadcast) Broadcast;
  decltype(&ncclGroupStart) GroupStart;
  decltype(&ncclGroupEnd) GroupEnd;
  decltype(&ncclGetErrorString) GetErrorString;
  decltype(&ncclGetLastError) GetLastError;
};
Nccl nccl;

template <class F>
void resolve(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (fn == nullptr) std::fprintf(stderr, "missing symbol %s\n", name), std::exit(2);
}

void load(const char* path) {
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) std::fprintf(stderr, "dlopen: %s\n", dlerror()), std::exit(2);
  resolve(lib, "ncclGetVersion", nccl.GetVersion);
  resolve(lib, "ncclGetUniqueId", nccl.GetUniqueId);
  resolve(lib, "ncclCommInitRank", nccl.CommInitRank);
  resolve(lib, "ncclCommDestroy", nccl.CommDestroy);
  resolve(lib, "ncclCommAbort", nccl.CommAbort);
  resolve(lib, "ncclCommGetAsyncError", nccl.CommGetAsyncError);
  resolve(lib, "ncclAllReduce", nccl.AllReduce);
  resolve(lib, "ncclBroadcast", nccl.Broadcast);
  resolve(lib, "ncclGroupStart", nccl.GroupStart);
  resolve(lib, "ncclGroupEnd", nccl.GroupEnd);
  resolve(lib, "ncclGetErrorString", nccl.GetErrorString);
  resolve(lib, "ncclGetLastError", nccl.GetLastError);
}

// ---- checks ----------------------------------------------------------------------------------------
thread_local int t_rank = -1;
thread_local int t_failures = 0;

// One message per failure, written at once (ranks print concurrently).
void check_failed(int line, const char* cond, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void check_failed(int line, const char* cond, const char* fmt, ...) {
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  ++t_failures;
  std::fprintf(stderr, "rank %d: nccl_emu_test.cpp:%d: CHECK(%s) failed: %s\n", t_rank, line, cond, what);
}
#define CHECK(cond, ...) \
  do {                   \
    if (!(cond)) check_failed(__LINE__, #cond, __VA_ARGS__); \
  } while (0)
#define CHECK_OK(call)                                                                               \
  do {                                                                                               \
    const ncclResult_t r_ = (call);                                                                  \
    CHECK(r_ == ncclSuccess, "%s -> %d (%s): %s", #call, r_, nccl.GetErrorString(r_), nccl.GetLastError(nullptr)); \
  } while (0)

// Results of every rank, in memory shared across fork: hash[rank][test].
constexpr int kMaxRanks = 4, kMaxTests = 32;
struct Board {
  uint64_t hash[kMaxRanks][kMaxTests];
  std::atomic<int> warmed;  // ranks of a survivor world past their first collective
};
Board* g_board = nullptr;
thread_local int t_test = 0;

uint64_t fnv(const void* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ull;
  return h;
}
void post(const void* p, size_t n) { g_board->hash[t_rank][t_test++] = fnv(p, n); }

// ---- data and the reference -------------------------------------------------------------------------
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
// Values of many magnitudes, so that the order of a sum shows in its bits.
double value(int rank, size_t i, int salt) {
  const uint64_t h = mix(uint64_t(rank) * 1000003u + i * 7919u + uint64_t(salt) * 104729u);
  const double m = 1.0 + double(h & 0xffffff) / 16777216.0;
  const int e = int((h >> 24) % 24) - 12;
  return ((h >> 40) & 1 ? -1.0 : 1.0) * std::ldexp(m, e);
}

template <class S>
S stored(int rank, size_t i, int salt);
template <>
float stored<float>(int r, size_t i, int s) { return float(value(r, i, s)); }
template <>
double stored<double>(int r, size_t i, int s) { return value(r, i, s) * (1 + 1e-12 * double(i)); }
template <>
int64_t stored<int64_t>(int r, size_t i, int s) {
  return int64_t(mix(uint64_t(r) * 31 + i + uint64_t(s)) % (1ull << 40)) - (1ll << 39);
}
template <>
int32_t stored<int32_t>(int r, size_t i, int s) {
  return int32_t(mix(uint64_t(r) * 17 + i + uint64_t(s)) % 2000001) - 1000000;
}
template <>
uint16_t stored<uint16_t>(int r, size_t i, int s) { return __float2bfloat16_rn(float(value(r, i, s))).__x; }

// Type traits of the test's own reference (CUDA's conversions from emu/include, not the library's).
template <class S>
struct Ref {
  using A = S;
  static A in(S v) { return v; }
  static S out(A a) { return a; }
};
struct RefBf16 {
  using A = float;
  static A in(uint16_t v) { return __bfloat162float(__ushort_as_bfloat16(v)); }
  static uint16_t out(A a) { return __float2bfloat16_rn(a).__x; }
};
struct RefHalf {
  using A = float;
  static A in(uint16_t v) { return __half2float(__half{v}); }
  static uint16_t out(A a) { return __float2half_rn(a).__x; }
};

template <class A>
A ref_op(int op, A a, A b) {
  if (op == ncclMax) return b > a ? b : a;
  if (op == ncclMin) return b < a ? b : a;
  return a + b;  // sum, avg (no overflow in the test data)
}

// ((x0 op x1) op x2) ..., accumulated in Tr::A, avg divided by n at the end, rounded once.
template <class S, class Tr>
std::vector<S> reference(const std::function<S(int, size_t)>& v, int n, size_t count, int op) {
  std::vector<S> out(count);
  for (size_t i = 0; i < count; ++i) {
    typename Tr::A acc = Tr::in(v(0, i));
    for (int r = 1; r < n; ++r) acc = ref_op(op, acc, Tr::in(v(r, i)));
    if (op == ncclAvg) acc = acc / typename Tr::A(n);
    out[i] = Tr::out(acc);
  }
  return out;
}

// ---- the scenarios ----------------------------------------------------------------------------------
const char* op_name(int op) { return op == ncclSum ? "sum" : op == ncclAvg ? "avg" : op == ncclMax ? "max" : "min"; }

template <class S, class Tr>
void check_all_reduce(ncclComm_t comm, int n, ncclDataType_t dt, int op, size_t count, int salt, const char* what) {
  std::function<S(int, size_t)> v = [salt](int r, size_t i) { return stored<S>(r, i, salt); };
  if constexpr (std::is_same_v<Tr, RefHalf>)
    v = [salt](int r, size_t i) { return uint16_t(__float2half_rn(float(value(r, i, salt) / 64)).__x); };
  std::vector<S> send(count), recv(count, S(0x5a));
  for (size_t i = 0; i < count; ++i) send[i] = v(t_rank, i);
  CHECK_OK(nccl.AllReduce(send.data(), recv.data(), count, dt, ncclRedOp_t(op), comm, nullptr));
  const std::vector<S> want = reference<S, Tr>(v, n, count, op);
  size_t bad = 0;
  while (bad < count && std::memcmp(&recv[bad], &want[bad], sizeof(S)) == 0) ++bad;
  CHECK(bad == count, "all-reduce %s %s of %zu: element %zu differs from the rank-ordered reference", what,
        op_name(op), count, bad);
  post(recv.data(), count * sizeof(S));
}

void check_reductions(ncclComm_t comm, int n) {
  const size_t big = 50000;  // several 64 KiB slots of f32 (the parent sets MAE_NCCL_EMU_SLOT_BYTES)
  for (int op : {ncclSum, ncclAvg, ncclMax}) {
    check_all_reduce<float, Ref<float>>(comm, n, ncclFloat32, op, big, 1, "f32");
    check_all_reduce<uint16_t, RefBf16>(comm, n, ncclBfloat16, op, big + 7, 2, "bf16");
    check_all_reduce<uint16_t, RefHalf>(comm, n, ncclFloat16, op, 1001, 3, "fp16");
    check_all_reduce<int64_t, Ref<int64_t>>(comm, n, ncclInt64, op, 20011, 4, "int64");
  }
  check_all_reduce<double, Ref<double>>(comm, n, ncclFloat64, ncclSum, 9000, 5, "f64");
  check_all_reduce<int32_t, Ref<int32_t>>(comm, n, ncclInt32, ncclMin, 777, 6, "int32");
}

void check_broadcast(ncclComm_t comm) {
  const size_t count = 70001;
  std::vector<float> send(count), recv(count, -1.0f), want(count);
  for (size_t i = 0; i < count; ++i) send[i] = stored<float>(t_rank, i, 9), want[i] = stored<float>(1, i, 9);
  CHECK_OK(nccl.Broadcast(send.data(), recv.data(), count, ncclFloat32, 1, comm, nullptr));
  CHECK(std::memcmp(recv.data(), want.data(), count * 4) == 0, "broadcast from rank 1 (out of place)");
  post(recv.data(), count * 4);
  std::vector<int64_t> inplace(3333);
  for (size_t i = 0; i < inplace.size(); ++i) inplace[i] = stored<int64_t>(t_rank, i, 10);
  CHECK_OK(nccl.Broadcast(inplace.data(), inplace.data(), inplace.size(), ncclInt64, 1, comm, nullptr));
  size_t i = 0;
  while (i < inplace.size() && inplace[i] == stored<int64_t>(1, i, 10)) ++i;
  CHECK(i == inplace.size(), "broadcast from rank 1 (in place): element %zu", i);
  CHECK_OK(nccl.Broadcast(nullptr, nullptr, 0, ncclFloat32, 1, comm, nullptr));  // count 0: nothing
}

void check_in_place(ncclComm_t comm, int n) {
  const size_t count = 40000;
  std::vector<float> buf(count);
  for (size_t i = 0; i < count; ++i) buf[i] = stored<float>(t_rank, i, 11);
  CHECK_OK(nccl.AllReduce(buf.data(), buf.data(), count, ncclFloat32, ncclSum, comm, nullptr));
  const auto want =
      reference<float, Ref<float>>([](int r, size_t i) { return stored<float>(r, i, 11); }, n, count, ncclSum);
  CHECK(std::memcmp(buf.data(), want.data(), count * 4) == 0, "in-place all-reduce");
  post(buf.data(), count * 4);
}

void check_group(ncclComm_t comm, int n) {
  std::vector<float> a(5000);
  std::vector<uint16_t> b(30000);
  std::vector<int64_t> c(100);
  for (size_t i = 0; i < a.size(); ++i) a[i] = stored<float>(t_rank, i, 12);
  for (size_t i = 0; i < b.size(); ++i) b[i] = stored<uint16_t>(t_rank, i, 13);
  for (size_t i = 0; i < c.size(); ++i) c[i] = stored<int64_t>(t_rank, i, 14);
  CHECK_OK(nccl.GroupStart());
  CHECK_OK(nccl.AllReduce(a.data(), a.data(), a.size(), ncclFloat32, ncclAvg, comm, nullptr));
  CHECK_OK(nccl.AllReduce(b.data(), b.data(), b.size(), ncclBfloat16, ncclAvg, comm, nullptr));
  CHECK_OK(nccl.AllReduce(c.data(), c.data(), c.size(), ncclInt64, ncclSum, comm, nullptr));
  CHECK_OK(nccl.GroupEnd());
  const auto va = [](int r, size_t i) { return stored<float>(r, i, 12); };
  const auto vb = [](int r, size_t i) { return stored<uint16_t>(r, i, 13); };
  const auto vc = [](int r, size_t i) { return stored<int64_t>(r, i, 14); };
  const auto wa = reference<float, Ref<float>>(va, n, a.size(), ncclAvg);
  const auto wb = reference<uint16_t, RefBf16>(vb, n, b.size(), ncclAvg);
  const auto wc = reference<int64_t, Ref<int64_t>>(vc, n, c.size(), ncclSum);
  CHECK(a == wa && b == wb && c == wc, "group of three all-reduces");
  post(b.data(), b.size() * 2);
  CHECK(nccl.GroupEnd() == ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
}

// Two collectives recorded on the capturing stream, replayed three times with new inputs.
void check_capture(ncclComm_t comm, int n) {
  std::vector<float> grads(20000);
  std::vector<uint16_t> loss(1);
  CHECK_OK(nccl.AllReduce(grads.data(), grads.data(), grads.size(), ncclFloat32, ncclAvg, comm, kCapturing));
  CHECK_OK(nccl.AllReduce(loss.data(), loss.data(), 1, ncclBfloat16, ncclSum, comm, kCapturing));
  CHECK(t_graph.size() == 2, "two nodes recorded, got %zu", t_graph.size());
  for (int replay = 0; replay < 3; ++replay) {
    for (size_t i = 0; i < grads.size(); ++i) grads[i] = stored<float>(t_rank, i, 20 + replay);
    loss[0] = stored<uint16_t>(t_rank, 0, 30 + replay);
    for (const Recorded& node : t_graph) node.fn(node.arg);
    const auto want = reference<float, Ref<float>>(
        [replay](int r, size_t i) { return stored<float>(r, i, 20 + replay); }, n, grads.size(), ncclAvg);
    const auto wl = reference<uint16_t, RefBf16>(
        [replay](int r, size_t i) { return stored<uint16_t>(r, i, 30 + replay); }, n, 1, ncclSum);
    CHECK(grads == want && loss == wl, "replay %d of the captured all-reduces", replay);
  }
  const int freed = t_freed;
  for (const Recorded& node : t_graph) node.free_arg(node.arg), ++t_freed;
  t_graph.clear();
  CHECK(t_freed == freed + 2, "graph destroyed");
}

ncclComm_t init(int n, const ncclUniqueId& id) {
  ncclComm_t comm = nullptr;
  CHECK_OK(nccl.CommInitRank(&comm, n, id, t_rank));
  return comm;
}

// Every check of one rank of a healthy world.
int rank_main(int rank, int n, const ncclUniqueId& id) {
  t_rank = rank, t_failures = 0, t_test = 0;
  ncclComm_t comm = init(n, id);
  if (comm == nullptr) return 1;
  check_reductions(comm, n);
  check_broadcast(comm);
  check_in_place(comm, n);
  check_group(comm, n);
  check_capture(comm, n);
  ncclResult_t async = ncclInternalError;
  CHECK_OK(nccl.CommGetAsyncError(comm, &async));
  CHECK(async == ncclSuccess, "async error %d on a healthy communicator", async);
  CHECK_OK(nccl.CommDestroy(comm));
  return t_failures;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The next collective after a peer left (aborted, or died) fails within seconds (15 allowed: CI machines are loaded).
int survivor_main(int rank, int n, const ncclUniqueId& id, const char* why) {
  t_rank = rank, t_failures = 0;
  ncclComm_t comm = init(n, id);
  if (comm == nullptr) return 1;
  std::vector<float> x(1000, 1.0f);
  CHECK_OK(nccl.AllReduce(x.data(), x.data(), x.size(), ncclFloat32, ncclSum, comm, nullptr));
  g_board->warmed.fetch_add(1);
  if (rank == n - 1) {  // the rank that leaves, once every rank is done with the first collective
    for (int i = 0; i < 10000 && g_board->warmed.load() < n; ++i) usleep(1000);
    if (std::strcmp(why, "abort") == 0) return nccl.CommAbort(comm) == ncclSuccess ? 0 : 1;
    _exit(0);  // dies without a word (its parent reaps it only later: a zombie meanwhile)
  }
  const auto t0 = std::chrono::steady_clock::now();
  const ncclResult_t r = nccl.AllReduce(x.data(), x.data(), x.size(), ncclFloat32, ncclSum, comm, nullptr);
  const double took = seconds_since(t0);
  CHECK(r != ncclSuccess && took < 15, "%s: collective after a peer left returned %d after %.2f s", why, r, took);
  if (rank == 0) std::printf("  %s: rank 0's all-reduce failed after %.3f s: %s (%s)\n", why, took,
                             nccl.GetErrorString(r), nccl.GetLastError(comm));
  ncclResult_t async = ncclSuccess;
  CHECK_OK(nccl.CommGetAsyncError(comm, &async));
  CHECK(async != ncclSuccess, "%s: no async error", why);
  const ncclResult_t again = nccl.AllReduce(x.data(), x.data(), x.size(), ncclFloat32, ncclSum, comm, nullptr);
  CHECK(again != ncclSuccess, "%s: the failure is not sticky", why);
  nccl.CommDestroy(comm);
  return t_failures;
}

// Rank 0 issues a different count than the others: every rank fails with ncclInvalidUsage.
int mismatch_main(int rank, int n, const ncclUniqueId& id) {
  t_rank = rank, t_failures = 0;
  ncclComm_t comm = init(n, id);
  if (comm == nullptr) return 1;
  std::vector<float> x(100, 1.0f);
  const ncclResult_t r = nccl.AllReduce(x.data(), x.data(), rank == 0 ? 99 : 100, ncclFloat32, ncclSum, comm, nullptr);
  CHECK(r == ncclInvalidUsage, "mismatched collectives returned %d", r);
  if (rank == 0) std::printf("  mismatch: %s\n", nccl.GetLastError(comm));
  nccl.CommDestroy(comm);
  return t_failures;
}

// Rank 1 is alive but does not come to the collective for 3 s: rank 0 fails after its
// MAE_NCCL_EMU_COLL_TIMEOUT_S (1 s, read at init), not when rank 1 leaves.
int stuck_main(int rank, const ncclUniqueId& id) {
  t_rank = rank, t_failures = 0;
  if (rank == 0) setenv("MAE_NCCL_EMU_COLL_TIMEOUT_S", "1", 1);
  ncclComm_t comm = init(2, id);
  if (comm == nullptr) return 1;
  if (rank == 1) {
    sleep(3);
    return nccl.CommDestroy(comm);
  }
  std::vector<float> x(10, 1.0f);
  const auto t0 = std::chrono::steady_clock::now();
  const ncclResult_t r = nccl.AllReduce(x.data(), x.data(), x.size(), ncclFloat32, ncclSum, comm, nullptr);
  const double took = seconds_since(t0);
  CHECK(r == ncclSystemError && took >= 0.9 && took < 15, "stuck peer: %d after %.2f s", r, took);
  std::printf("  stuck: rank 0's all-reduce failed after %.2f s: %s\n", took, nccl.GetLastError(comm));
  nccl.CommDestroy(comm);
  return t_failures;
}

// ---- worlds -----------------------------------------------------------------------------------------
ncclUniqueId new_id() {
  ncclUniqueId id;
  if (nccl.GetUniqueId(&id) != ncclSuccess) std::fprintf(stderr, "ncclGetUniqueId failed\n"), std::exit(2);
  return id;
}

// Forks n ranks running body(rank); true when all exit 0 (a rank that hangs is killed by alarm).
bool fork_world(int n, const std::function<int(int)>& body) {
  std::vector<pid_t> pids;
  std::fflush(stdout);
  for (int r = 0; r < n; ++r) {
    const pid_t pid = fork();
    if (pid == 0) {
      alarm(60);
      _exit(body(r) == 0 ? 0 : 1);
    }
    pids.push_back(pid);
  }
  bool ok = true;
  for (int r = 0; r < n; ++r) {
    int status = 0;
    waitpid(pids[size_t(r)], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "rank %d of %d: %s %d\n", r, n, WIFEXITED(status) ? "exit" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      ok = false;
    }
  }
  return ok;
}

// Every rank posted the same hashes.
bool same_across_ranks(int n) {
  for (int r = 1; r < n; ++r)
    if (std::memcmp(g_board->hash[r], g_board->hash[0], sizeof g_board->hash[0]) != 0) return false;
  return true;
}

bool healthy_world(int n) {
  std::memset(g_board, 0, sizeof *g_board);
  const ncclUniqueId id = new_id();
  const auto t0 = std::chrono::steady_clock::now();
  bool ok = fork_world(n, [&](int r) { return rank_main(r, n, id); });
  ok = same_across_ranks(n) && ok;
  std::printf("%s world of %d processes: reductions, broadcast, in place, group, capture (%.2f s)\n",
              ok ? "ok  " : "FAIL", n, seconds_since(t0));
  return ok;
}

bool thread_world() {
  std::memset(g_board, 0, sizeof *g_board);
  const ncclUniqueId id = new_id();
  int fails[2] = {0, 0};
  std::thread a([&] { fails[0] = rank_main(0, 2, id); }), b([&] { fails[1] = rank_main(1, 2, id); });
  a.join(), b.join();
  const bool ok = fails[0] == 0 && fails[1] == 0 && same_across_ranks(2);
  std::printf("%s world of 2 threads of one process\n", ok ? "ok  " : "FAIL");
  return ok;
}

bool failure_worlds() {
  bool ok = true;
  for (const char* why : {"abort", "death"}) {
    const ncclUniqueId id = new_id();
    g_board->warmed.store(0);
    const bool w = fork_world(3, [&](int r) { return survivor_main(r, 3, id, why); });
    std::printf("%s world of 3, rank 2 %s: the others fail fast\n", w ? "ok  " : "FAIL",
                std::strcmp(why, "abort") == 0 ? "aborts" : "dies");
    ok = ok && w;
  }
  const ncclUniqueId id = new_id();
  const bool m = fork_world(2, [&](int r) { return mismatch_main(r, 2, id); });
  std::printf("%s world of 2 with mismatched collectives\n", m ? "ok  " : "FAIL");
  const ncclUniqueId id2 = new_id();
  const bool st = fork_world(2, [&](int r) { return stuck_main(r, id2); });
  std::printf("%s world of 2, rank 1 stuck: the collective times out\n", st ? "ok  " : "FAIL");
  return ok && m && st;
}

// Only rank 0 of 2 comes: init fails after MAE_NCCL_EMU_TIMEOUT_S (1 s here), and unlinks the segment.
bool missing_rank() {
  const ncclUniqueId id = new_id();
  setenv("MAE_NCCL_EMU_TIMEOUT_S", "1", 1);
  const auto t0 = std::chrono::steady_clock::now();
  ncclComm_t comm = nullptr;
  const ncclResult_t r = nccl.CommInitRank(&comm, 2, id, 0);
  const double took = seconds_since(t0);
  unsetenv("MAE_NCCL_EMU_TIMEOUT_S");
  const std::string shm = std::string("/dev/shm") + (id.internal + 16);  // IdFields::name
  const bool ok = r != ncclSuccess && comm == nullptr && took >= 0.9 && took < 15 && access(shm.c_str(), F_OK) != 0;
  std::printf("%s missing rank: init failed after %.2f s: %s (%s)\n", ok ? "ok  " : "FAIL", took,
              nccl.GetErrorString(r), nccl.GetLastError(nullptr));
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : std::getenv("MAE_NCCL_PATH");
  load(path != nullptr ? path : "./libnccl_emu.so");
  setvbuf(stdout, nullptr, _IOLBF, 0);
  setenv("MAE_NCCL_EMU_SLOT_BYTES", "65536", 1);  // small slots: every collective takes several steps
  setenv("MAE_NCCL_EMU_COLL_TIMEOUT_S", "100", 1);  // failures must come from the abort, not a timeout
  void* shared = mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  g_board = static_cast<Board*>(shared);
  int version = 0;
  nccl.GetVersion(&version);
  std::printf("libnccl_emu version %d\n", version);
  bool ok = healthy_world(2);
  ok = healthy_world(3) && ok;
  ok = thread_world() && ok;
  ok = failure_worlds() && ok;
  ok = missing_rank() && ok;
  std::printf("%s\n", ok ? "all nccl_emu checks passed" : "SOME nccl_emu CHECKS FAILED");
  return ok ? 0 : 1;
}
