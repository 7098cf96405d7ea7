// device_internal.h: the emulator's device-side state shared by its .cpp files: fibers (one per
// CUDA thread, on their own stacks), the block being run (its fibers, shared memory, warp exchange
// areas) and the scheduling orders. One OS thread runs one block, or one cluster's blocks, at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mae_emu_device.h"

namespace mae_emu {

enum class FiberState { Ready, AtBarrier, AtWarpSync, AtMbarrier, AtClusterBarrier, Done };

// A cp.async copy a thread issued and has not waited for (device_async.cpp): the bytes were read
// at the issue, they reach shared memory when the thread waits for their group.
struct AsyncCopy {
  unsigned char* dst = nullptr;
  unsigned char data[16] = {};
  uint8_t bytes = 0;
  uint32_t group = 0;  // the thread's commit count when it issued the copy
};

// A wgmma.mma_async a thread issued and has not waited for (device_wgmma.cpp). Its operands are
// read at the issue (result kept in `out`) or at the wait, as the block's async mode says.
struct WgmmaOp {
  float* d = nullptr;
  int n = 0;
  uint64_t desc_a = 0, desc_b = 0;
  bool scale_d = true, trans_a = false, trans_b = false, done = false;
  uint32_t group = 0;
  std::vector<float> out;  // the result, when computed at the issue
};

// An mbarrier (device_hopper.cpp), kept beside shared memory by its shared address: the arrivals a
// phase expects, those still pending, the transaction bytes pending, the phases completed, and the
// TMA copies in flight that count against it (each lands its bytes, then completes its transactions).
struct TmaCopy {
  unsigned char* dst = nullptr;
  std::vector<unsigned char> bytes;
};
struct Mbarrier {
  uint32_t addr = 0;
  unsigned count = 0, pending = 0;
  int64_t tx = 0;
  uint32_t phases = 0;
  // whether the current phase carries transactions (TMA copies), and by parity whether the last
  // completed phase of that parity did (a wait on it waited for copies: the performance counters)
  bool tx_now = false, tx_done[2] = {false, false};
  std::vector<TmaCopy> inflight;
};

struct Fiber {
  void* sp = nullptr;  // saved stack pointer while suspended
  unsigned char* stack = nullptr;
  uint3 tid{0, 0, 0};
  unsigned linear = 0;
  FiberState state = FiberState::Ready;
  std::vector<AsyncCopy> copies;  // cp.async copies in flight
  uint32_t committed = 0;         // cp.async.commit_group calls so far
  std::vector<WgmmaOp> wgmma;     // wgmma.mma_async in flight
  uint32_t wgmma_committed = 0;   // wgmma.commit_group calls so far
  uint32_t wait_bar = 0;          // AtMbarrier: the barrier's shared address and the phase parity
  unsigned wait_parity = 0;
};

// A fault in a kernel: the grid stops and the launch reports it.
struct KernelFault {
  std::string what;
};

// What the access checks (device_check.cpp) keep per byte of shared memory: the last write and the
// reads since it, each as (thread, block barrier epoch, that thread's warp epoch). Epochs count
// within one grid run: a block's start and each released __syncthreads() bump the block epoch, each
// released warp collective bumps its warp's epoch. rt is a thread, kNone or kMany (then rwarp is
// the readers' one warp or kMany, and rW the latest of their warp epochs).
struct SharedCell {
  uint32_t wB, rB, wW, rW;
  uint16_t wt, rt, rwarp;
};
constexpr uint16_t kNone = 0xffff, kMany = 0xfffe, kAsync = 0xfffd;  // kAsync: written by a TMA copy

// A block's shared memory: [gap][static area][gap][dynamic area][gap] in one mapping, so that the
// checks can tell an access that runs off either area from one to host memory.
constexpr size_t kStaticArea = 48 * 1024;  // CUDA's limit for static __shared__ per block
constexpr size_t kSharedGap = 64 * 1024;

struct Block {
  const std::function<void()>* body = nullptr;
  const char* kernel = "";
  bool flat = false;  // launched barrier-free: threads run as plain calls, without fibers
  std::vector<Fiber> fibers;
  unsigned nthreads = 0;
  Fiber* current = nullptr;
  void* scheduler_sp = nullptr;
  // shared memory (device_shared.cpp)
  unsigned char* window = nullptr;  // the mapping: gaps and both areas
  size_t window_bytes = 0;
  unsigned char* statics_base = nullptr;  // the static __shared__ area (kStaticArea bytes)
  size_t static_used = 0;
  std::vector<std::pair<const SharedSlot*, size_t>> slots;
  unsigned char* dynamic_base = nullptr;  // the launch's dynamic shared memory
  size_t dynamic_bytes = 0;
  // the access checks' state (device_check.cpp; cells only under racecheck or initcheck)
  std::vector<SharedCell> cells;  // kStaticArea + dynamic_bytes, by offset (dynamic after static)
  uint32_t epoch = 0, block_start = 0;
  std::vector<uint32_t> warp_epoch;
  // one exchange area per warp: 32 x 8 bytes for shuffles, 32 x 10 words for the MMA fragments
  std::vector<uint64_t> exchange;
  std::vector<uint32_t> mma;
  // sm_90a state (device_hopper.cpp): the mbarriers initialised in this block
  std::vector<Mbarrier> mbarriers;
  // wgmma's operand cache (device_wgmma.cpp): an operand read through a descriptor, held until a
  // write to shared memory (a thread's store, a landed copy) touches the bytes it was read from
  struct WgmmaOperand {
    bool valid = false, trans = false;
    uint64_t desc = 0;
    int rows = 0;
    uintptr_t lo = 0, hi = 0;  // the bytes read
    std::vector<float> v;      // [rows][16]
  };
  std::vector<WgmmaOperand> wg_operands;  // at most kWgmmaOperands
  // the thread block cluster this block runs in (device_grid.cpp: its blocks run together on this
  // OS thread, fibers interleaved), its rank there (%cluster_ctarank) and its own blockIdx
  std::vector<Block*>* cluster = nullptr;
  unsigned cluster_rank = 0;
  uint3 block_idx{0, 0, 0};
  // performance counters, while counting (device_count.cpp)
  struct CountState* count = nullptr;
  // the first fault seen (the grid stops)
  bool faulted = false;
  std::string fault;
};

extern thread_local Block* tl_block;

// Makes another block of the running block's cluster the current one for the emulator's own
// bookkeeping (a remote mbarrier arrival, a multicast copy landing there), and back.
struct InBlock {
  explicit InBlock(Block& b) : was(tl_block) { tl_block = &b; }
  ~InBlock() { tl_block = was; }
  InBlock(const InBlock&) = delete;
  InBlock& operator=(const InBlock&) = delete;
  Block* was;
};

// Performance counters (device_count.cpp; MAE_EMU_COUNT=FILE): a block's warps' accesses grouped
// into warp-level requests, summed over the grid run and written as one JSON line at its end.
bool counting();
void count_start(Block& b);  // at block start
// async: a load an asynchronous copy makes (cp.async), which its thread waits for later, not at the
// issue; count_async_wait: such a wait, the running thread's at site pc (one per warp-level request).
void count_access(Block& b, uintptr_t pc, uintptr_t a, size_t n, bool write, bool shared, bool async = false);
void count_async_wait(Block& b, uintptr_t pc);
void count_mma(Block& b);
void count_end(Block& b);  // at block end
void count_merge(Block& into, Block& from);  // a cluster's other blocks' counts, before count_finish
void count_finish(Block& b, const char* kernel, dim3 grid, dim3 block, size_t smem);

// Stacks (device_fiber.cpp).
constexpr size_t kStackBytes = 256 * 1024;
unsigned char* take_stack();
void give_stack(unsigned char* stack);
// Prepares f to start in fiber_main on its stack; switches from the scheduler into f / back.
void prepare_fiber(Fiber& f);
void resume(Block& b, Fiber& f);
void suspend(Block& b);

// Scheduling orders (device_grid.cpp): MAE_EMU_SCHEDULE = forward (default), reverse,
// shuffle[:SEED], warp, warp-reverse, lead (forward; a cluster's lowest-ranked CTA with a ready thread
// runs alone).
struct Schedule {
  enum Kind { Forward, Reverse, Shuffle, Warp, WarpReverse, Lead } kind = Forward;
  uint64_t seed = 1;
};
Schedule schedule_from_env();
void set_schedule(Schedule s);
Schedule current_schedule();

// Records a fault in the running block (the first one wins) and, from a fiber, leaves it.
[[noreturn]] void fault_in_fiber(const std::string& what);
// Shared memory (device_shared.cpp): maps a grid's window / unmaps it; poisons both areas at block start.
void map_shared(Block& b, size_t dynamic_bytes);
void unmap_shared(Block& b);
void reset_shared(Block& b);
std::string thread_name(const Block& b, unsigned linear);

// Sets up the access checks' state for a grid run (device_check.cpp).
void prepare_checks(Block& b);
// One access by the running thread, for the emulator's own device functions (cp.async, ldmatrix):
// the checks alone (as if the kernel's instrumented code made it), or the counters alone (a
// warp-level request at site pc).
void check_only(uintptr_t a, size_t n, bool write);
void count_only(uintptr_t a, size_t n, bool write, uintptr_t pc, bool async = false);
// Whether a write by the running thread now would race (racecheck), without recording one: a
// cp.async's destination at its issue, since the copy may land at any point until the wait.
void check_write_hazard(uintptr_t a, size_t n);
// A thread that ended with cp.async copies it never waited for: the fault's words, or "".
std::string unwaited_copies(const Block& b);
// Accesses of the asynchronous proxy (TMA, wgmma's operand reads): memcheck on shared bounds, and
// initcheck for reads; a TMA write marks the bytes written by no thread (racecheck leaves them to
// the mbarriers that order them).
enum AsyncAccess { kAsyncRead, kAsyncWrite, kAsyncBounds };
void check_async(uintptr_t a, size_t n, AsyncAccess what);
// A write to shared memory: drops the wgmma operands read from those bytes.
inline void note_shared_write(Block& b, uintptr_t a, size_t n) {
  for (Block::WgmmaOperand& o : b.wg_operands)
    if (o.valid && a < o.hi && a + n > o.lo) o.valid = false;
}
// sm_90a scheduling (device_hopper.cpp): readies the threads whose mbarrier phase has completed
// (true if any), and the fault's words for threads left waiting when nothing else can run.
bool release_mbarrier_waiters(Block& b);
std::string mbarrier_deadlock(const Block& b);
// The mbarrier at shared address a of block b (nullptr if none was initialised there); one arrival
// on it (faults name `what`; true when the arrival completed its phase); the TMA box a copy reads
// (`d0`: its shared destination address), counted as the running block's global load.
Mbarrier* find_mbarrier(Block& b, uint32_t a);
bool mbarrier_arrive_on(Mbarrier& m, const char* what);
TmaCopy tma_box(const TmaSpec& s, const int32_t* c, uint32_t d0);
const TmaSpec& tma_spec(const void* map128);
void tma_deliver(Mbarrier& m, TmaCopy copy);
// Whether asynchronous results arrive late (TMA copies land only when a thread waits on their
// mbarrier, wgmma reads its operands at the issue) or early (copies land as soon as their phase's
// arrivals are in, wgmma reads at the wait): the reverse schedules late, the others early, so that
// a kernel that reads too soon or releases a buffer too soon fails under one of them.
bool async_late();
void count_tma(Block& b, uintptr_t src_lo, const std::vector<std::pair<uintptr_t, size_t>>& rows);
void count_wgmma(Block& b, int n);

}  // namespace mae_emu
