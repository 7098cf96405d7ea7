// nccl_emu_shm.cpp: the shared segment of libnccl_emu.so's communicators: a POSIX shared memory
// object named by the unique id, which every rank (a process, or a thread) maps. Rendezvous: each
// rank claims its RankState and counts itself in `joined`; the last to arrive unlinks the name (the
// mappings live on). Steps: a rank writes its StepDesc and slot of a bank, then publishes the step
// number in its RankState.seq and bumps the header's futex word; waiters sleep on that word (a
// shared futex, so processes wake each other) and re-check, with a bounded sleep, for failures: a
// failure recorded in the header (ncclCommAbort, a timeout, mismatched collectives), a peer that
// destroyed or aborted its communicator, a peer process that died, and the timeouts.
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "nccl_emu_internal.h"

namespace nccl_emu {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollMs = 20;  // longest sleep between checks for failures

size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void futex_wait(std::atomic<uint32_t>* word, uint32_t seen, int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// Whether process pid is gone (or a zombie nobody reaped yet).
bool process_dead(int pid) {
  if (pid <= 0 || pid == getpid()) return false;
  if (kill(pid, 0) != 0) return errno == ESRCH;
  char path[64], buf[512];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return false;
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');
  return paren != nullptr && (paren[2] == 'Z' || paren[2] == 'X');
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Maps the segment `name` of `bytes` bytes, creating it if needed.
ncclResult_t map_segment(State& s, const char* name, size_t bytes, std::string* why) {
  const int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
  if (fd < 0) return *why = errno_text("shm_open"), ncclSystemError;
  struct stat st;
  ncclResult_t r = ncclSuccess;
  if (fstat(fd, &st) != 0) {
    *why = errno_text("fstat"), r = ncclSystemError;
  } else if (st.st_size != 0 && size_t(st.st_size) != bytes) {
    *why = "the segment " + std::string(name) + " has " + std::to_string(st.st_size) + " bytes, this rank expects " +
           std::to_string(bytes) + " (the ranks disagree on nranks)";
    r = ncclInvalidUsage;
  } else if (st.st_size == 0 && ftruncate(fd, off_t(bytes)) != 0) {
    *why = errno_text("ftruncate"), r = ncclSystemError;
  }
  if (r == ncclSuccess) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) *why = errno_text("mmap"), r = ncclSystemError;
    else s.base = static_cast<char*>(p), s.bytes = bytes;
  }
  close(fd);
  return r;
}

// Claims `rank` in the header of a freshly mapped segment.
ncclResult_t claim_rank(State& s, int nranks, int rank, std::string* why) {
  SharedHeader* h = s.hdr();
  uint32_t expected = 0;
  if (!h->nranks.compare_exchange_strong(expected, uint32_t(nranks)) && expected != uint32_t(nranks)) {
    *why = "rank " + std::to_string(rank) + " says nranks=" + std::to_string(nranks) + ", another rank said " +
           std::to_string(expected);
    return ncclInvalidUsage;
  }
  int32_t none = 0;
  if (!s.rank_state(rank)->pid.compare_exchange_strong(none, int32_t(getpid()))) {
    *why = "rank " + std::to_string(rank) + " joined twice (the other is pid " + std::to_string(none) + ")";
    return ncclInvalidUsage;
  }
  s.rank_state(rank)->phase.store(kJoined);
  return ncclSuccess;
}

std::string missing_ranks(const State& s) {
  std::string out;
  for (int r = 0; r < s.nranks; ++r)
    if (s.rank_state(r)->pid.load() == 0) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

// Waits until every rank joined (or a failure, or the timeout).
ncclResult_t wait_joined(State& s, double timeout_s, std::string* why) {
  SharedHeader* h = s.hdr();
  const Clock::time_point t0 = Clock::now();
  for (;;) {
    const uint32_t seen = h->futex.load();
    if (h->joined.load() >= uint32_t(s.nranks)) return ncclSuccess;
    if (ncclResult_t r = shared_failure(s, why)) return r;
    if (seconds_since(t0) > timeout_s) {
      *why = "rank(s) " + missing_ranks(s) + " never joined within " + std::to_string(int(timeout_s)) +
             " s (MAE_NCCL_EMU_TIMEOUT_S)";
      fail_shared(s, ncclSystemError, "rendezvous timed out: " + *why);
      return ncclSystemError;
    }
    futex_wait(&h->futex, seen, kPollMs);
  }
}

// Whether rank r's process is gone although it never left the communicator. The phase is read after
// the death check: a rank that left wrote so before it exited.
bool died_in_comm(const State& s, int r) {
  const RankState* rs = s.rank_state(r);
  return process_dead(rs->pid.load()) && rs->phase.load() == kJoined;
}

// Why peer r, which had not published step k when last looked at, never will, or "". Its step is
// read again after its phase: a peer publishes before it leaves, so one that published k and then
// destroyed its communicator (or exited) in between is not lagging.
std::string lagging_peer_gone(const State& s, int r, uint64_t k) {
  const RankState* rs = s.rank_state(r);
  const std::string who = "rank " + std::to_string(r);
  std::string gone;
  if (died_in_comm(s, r)) gone = who + " (pid " + std::to_string(rs->pid.load()) + ") died";
  const uint32_t phase = rs->phase.load();
  if (phase == kDestroyed) gone = who + " destroyed its communicator";
  if (phase == kAborted) gone = who + " aborted its communicator";
  return rs->seq.load(std::memory_order_acquire) >= k ? "" : gone;
}

// The first rank that has not published step k, or -1.
int first_lagging(const State& s, uint64_t k) {
  for (int r = 0; r < s.nranks; ++r)
    if (s.rank_state(r)->seq.load(std::memory_order_acquire) < k) return r;
  return -1;
}

}  // namespace

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return end != v && *end == '\0' && d >= 0 ? d : fallback;
}

Layout layout_for(int nranks, size_t slot_bytes) {
  Layout l;
  l.ranks = align64(sizeof(SharedHeader));
  l.slots = l.ranks + align64(sizeof(RankState) * size_t(nranks));
  l.slot_stride = align64(sizeof(StepDesc) + slot_bytes);
  l.total = l.slots + 2 * size_t(nranks) * l.slot_stride;
  return l;
}

State::~State() {
  if (base != nullptr) munmap(base, bytes);
}

ncclResult_t attach(State& s, const IdFields& id, int nranks, int rank, double init_timeout_s, std::string* why) {
  s.name = std::string(id.name, strnlen(id.name, sizeof id.name));
  s.nranks = nranks, s.rank = rank, s.slot_bytes = id.slot_bytes;
  s.lay = layout_for(nranks, s.slot_bytes);
  if (ncclResult_t r = map_segment(s, s.name.c_str(), s.lay.total, why)) return r;
  if (ncclResult_t r = claim_rank(s, nranks, rank, why)) return r;
  if (ncclResult_t r = shared_failure(s, why)) return r;
  if (s.hdr()->joined.fetch_add(1) + 1 == uint32_t(nranks)) shm_unlink(s.name.c_str());  // all have it open
  wake_all(s);
  const ncclResult_t r = wait_joined(s, init_timeout_s, why);
  if (r != ncclSuccess) shm_unlink(s.name.c_str());
  return r;
}

void wake_all(State& s) {
  s.hdr()->futex.fetch_add(1);
  futex_wake(&s.hdr()->futex);
}

void publish(State& s, uint64_t k) {
  s.rank_state(s.rank)->seq.store(k, std::memory_order_release);
  wake_all(s);
}

ncclResult_t wait_all(State& s, uint64_t k, std::string* why) {
  SharedHeader* h = s.hdr();
  const Clock::time_point t0 = Clock::now();
  for (int round = 0;; ++round) {
    const uint32_t seen = h->futex.load();
    const int lag = first_lagging(s, k);
    if (lag < 0) return ncclSuccess;
    if (ncclResult_t r = shared_failure(s, why))  // unless every rank published before it
      return first_lagging(s, k) < 0 ? ncclSuccess : r;
    if (round > 0) {
      if (std::string gone = lagging_peer_gone(s, lag, k); !gone.empty()) {
        *why = gone + " before it reached this collective";
        fail_shared(s, ncclRemoteError, *why);
        return ncclRemoteError;
      }
      if (s.coll_timeout_s > 0 && seconds_since(t0) > s.coll_timeout_s) {
        *why = "rank " + std::to_string(lag) + " did not reach the collective within " +
               std::to_string(int(s.coll_timeout_s)) + " s (MAE_NCCL_EMU_COLL_TIMEOUT_S)";
        fail_shared(s, ncclSystemError, *why);
        return ncclSystemError;
      }
    }
    futex_wait(&h->futex, seen, kPollMs);
  }
}

void fail_shared(State& s, ncclResult_t code, const std::string& why) {
  SharedHeader* h = s.hdr();
  uint32_t expected = 0;
  if (h->fail_claim.compare_exchange_strong(expected, 1)) {
    std::snprintf(h->reason, sizeof h->reason, "%s", why.c_str());
    h->failed_by.store(s.rank);
    h->failed.store(code, std::memory_order_release);
  }
  wake_all(s);
}

ncclResult_t shared_failure(const State& s, std::string* why) {
  const int code = s.hdr()->failed.load(std::memory_order_acquire);
  if (code == 0) return ncclSuccess;
  const int by = s.hdr()->failed_by.load();
  *why = by == s.rank ? std::string(s.hdr()->reason)
                      : "rank " + std::to_string(by) + " failed the communicator: " + s.hdr()->reason;
  return by == s.rank ? ncclResult_t(code) : ncclRemoteError;
}

int dead_peer(const State& s) {
  for (int r = 0; r < s.nranks; ++r) {
    if (r != s.rank && died_in_comm(s, r)) return r;
  }
  return -1;
}

void leave(State& s, RankPhase phase) {
  s.rank_state(s.rank)->phase.store(phase);
  wake_all(s);
}

}  // namespace nccl_emu
