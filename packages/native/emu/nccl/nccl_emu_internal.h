// nccl_emu_internal.h: what nccl_emu.cpp (the NCCL API) and nccl_emu_shm.cpp (the shared segment)
// share: the unique id's layout, the shared segment's layout (a header, one state per rank, and two
// banks of per-rank slots that ranks write their step's data into), the process-local communicator
// state, and the segment operations (open and rendezvous, publish a step, wait for every rank,
// record a failure that every rank sees). Private to libnccl_emu.so.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "nccl_emu.h"

namespace nccl_emu {

// ---- the unique id (128 bytes) -------------------------------------------------------------------
constexpr char kIdMagic[8] = {'M', 'A', 'E', 'N', 'C', 'C', 'L', '1'};
struct IdFields {
  char magic[8];
  uint32_t slot_bytes;  // bytes of one rank's slot (chosen by ncclGetUniqueId: MAE_NCCL_EMU_SLOT_BYTES)
  uint32_t reserved;
  char name[112];  // the shm_open name: "/mae-nccl-emu.<pid>.<time>.<32 hex random>"
};
static_assert(sizeof(IdFields) == NCCL_UNIQUE_ID_BYTES, "the id is 128 bytes");

// ---- the shared segment --------------------------------------------------------------------------
struct alignas(64) SharedHeader {
  std::atomic<uint32_t> nranks;      // set by the first rank to arrive (0 before)
  std::atomic<uint32_t> joined;      // ranks that have attached
  std::atomic<uint32_t> futex;       // bumped at every arrival and failure; waiters sleep on it
  std::atomic<int32_t> failed;       // the ncclResult_t that broke the communicator, 0 while healthy
  std::atomic<int32_t> failed_by;    // the rank that recorded it
  std::atomic<uint32_t> fail_claim;  // 0, then 1 once a rank owns the reason (written before failed)
  uint64_t slot_bytes;
  char reason[400];
};
enum RankPhase : uint32_t { kAbsent = 0, kJoined = 1, kDestroyed = 2, kAborted = 3 };
struct alignas(64) RankState {
  std::atomic<int32_t> pid;    // 0 until the rank joins
  std::atomic<uint32_t> phase;  // RankPhase
  std::atomic<uint64_t> seq;    // the last step this rank published
};
// What a rank does in a step; every rank must publish the same (checked after each step).
enum Kind : uint32_t { kAllReduce = 1, kBroadcast = 2 };
struct alignas(64) StepDesc {
  uint32_t kind, dtype, op, root;
  uint64_t count, chunk;
};

// Byte offsets of the segment's parts for nranks ranks and slots of slot_bytes.
struct Layout {
  size_t ranks, slots, slot_stride, total;
};
Layout layout_for(int nranks, size_t slot_bytes);

// ---- the process-local communicator --------------------------------------------------------------
struct State {
  std::string name;  // the shm name (unlinked once every rank attached)
  char* base = nullptr;
  size_t bytes = 0;
  Layout lay{};
  int rank = 0, nranks = 0;
  size_t slot_bytes = 0;
  uint64_t step = 0;             // steps this rank published (under mu)
  double coll_timeout_s = 0;     // 0: wait for ever (while peers live)
  std::mutex mu;                 // one collective at a time
  std::atomic<int> error{0};     // sticky: the ncclResult_t that broke this communicator
  std::atomic<bool> destroyed{false};
  std::mutex text_mu;
  std::string last_error;        // under text_mu
  ~State();

  SharedHeader* hdr() const { return reinterpret_cast<SharedHeader*>(base); }
  RankState* rank_state(int r) const { return reinterpret_cast<RankState*>(base + lay.ranks) + r; }
  StepDesc* desc(int bank, int r) const {
    return reinterpret_cast<StepDesc*>(base + lay.slots + (size_t(bank) * nranks + r) * lay.slot_stride);
  }
  char* slot(int bank, int r) const { return reinterpret_cast<char*>(desc(bank, r)) + sizeof(StepDesc); }
};

// ---- segment operations (nccl_emu_shm.cpp) -------------------------------------------------------
// Opens (or creates) the segment named by the id, claims `rank` and waits up to init_timeout_s for
// every rank. On failure returns the code and sets *why.
ncclResult_t attach(State& s, const IdFields& id, int nranks, int rank, double init_timeout_s, std::string* why);
// Publishes step k (this rank's desc and slot are written) and wakes the waiters.
void publish(State& s, uint64_t k);
// Waits until every rank published step k; a failure (abort, a dead or departed peer, the collective
// timeout) returns its code and sets *why.
ncclResult_t wait_all(State& s, uint64_t k, std::string* why);
// Records a failure in the segment (the first one wins) so that every rank's waits fail.
void fail_shared(State& s, ncclResult_t code, const std::string& why);
// The failure recorded in the segment, if any (*why names it).
ncclResult_t shared_failure(const State& s, std::string* why);
// A peer that died without destroying its communicator, or -1.
int dead_peer(const State& s);
void leave(State& s, RankPhase phase);  // marks this rank destroyed/aborted and wakes the waiters
void wake_all(State& s);

double env_number(const char* name, double fallback);

}  // namespace nccl_emu
