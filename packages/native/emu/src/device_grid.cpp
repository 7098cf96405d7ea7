// device_grid.cpp: runs a launched grid on the calling OS thread: block after block (or cluster
// after cluster, a cluster's blocks together, their fibers interleaved), each CUDA thread of a
// block a fiber that runs until it reaches a scheduling point (__syncthreads, a warp collective,
// barrier.cluster) or ends. The scheduler resumes the ready fibers in the chosen order, releases a warp
// when all its live lanes wait at a warp collective and the block when all its live threads wait
// at __syncthreads, and reports what CUDA leaves undefined: a barrier some threads exited before,
// lanes of one warp split between a warp collective and a block barrier. Orders (MAE_EMU_SCHEDULE):
// forward, reverse, shuffle[:SEED] (a new permutation every pass), warp / warp-reverse (one warp
// runs to its next block barrier before the next warp starts), lead (forward, and in a cluster only
// the lowest-ranked CTA with a ready thread runs: the others go on only where it cannot, so that it
// runs ahead of them as far as the kernel lets it, to its end). A correct kernel gives the same bytes
// under every order; a difference is a race. A kernel launched barrier-free (MAE_LAUNCH_FLAT: no
// __syncthreads, no warp collective) runs without fibers, each thread a plain call in the same
// orders (about 1.4x faster per launch of a small pointwise kernel); reaching a barrier there is
// a fault. MAE_EMU_TRACE=FILE lists the
// grids run.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "device_internal.h"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace mae_emu {
thread_local Block* tl_block = nullptr;

namespace {
thread_local std::string tl_fault_detail;
Schedule g_schedule = schedule_from_env();

unsigned sample_from_env() {
  const char* e = std::getenv("MAE_EMU_SAMPLE_BLOCKS");
  return e != nullptr ? static_cast<unsigned>(std::strtoul(e, nullptr, 10)) : 0;
}
unsigned g_sample = sample_from_env();  // MAE_EMU_SAMPLE_BLOCKS: blocks run per grid (0: all)

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void run_fiber(Block& b, Fiber& f) {
  threadIdx = f.tid;
  resume(b, f);
}

// Runs the ready lanes of warp w until none is ready, releasing its warp collectives as they fill.
void run_warp(Block& b, unsigned w);

bool warp_waiting(const Block& b, unsigned w, bool* any_barrier, bool* any_exited) {
  const unsigned lo = w * 32, hi = std::min(b.nthreads, lo + 32);
  unsigned waiting = 0, live = 0;
  *any_barrier = *any_exited = false;
  for (unsigned i = lo; i < hi; ++i) {
    const FiberState s = b.fibers[i].state;
    if (s == FiberState::Done) {
      *any_exited = true;
      continue;
    }
    ++live;
    if (s == FiberState::AtWarpSync) ++waiting;
    if (s == FiberState::AtBarrier) *any_barrier = true;
  }
  return live > 0 && waiting == live;
}

void release_warp(Block& b, unsigned w) {
  const unsigned lo = w * 32, hi = std::min(b.nthreads, lo + 32);
  ++b.warp_epoch[w];
  for (unsigned i = lo; i < hi; ++i)
    if (b.fibers[i].state == FiberState::AtWarpSync) b.fibers[i].state = FiberState::Ready;
}

void fault(Block& b, const std::string& what) {
  if (b.faulted) return;
  b.faulted = true;
  b.fault = what;
}

void run_warp(Block& b, unsigned w) {
  const unsigned lo = w * 32, hi = std::min(b.nthreads, lo + 32);
  for (;;) {
    bool ran = false;
    for (unsigned i = lo; i < hi && !b.faulted; ++i) {
      if (b.fibers[i].state != FiberState::Ready) continue;
      run_fiber(b, b.fibers[i]);
      ran = true;
    }
    bool barrier = false, exited = false;
    if (b.faulted || !warp_waiting(b, w, &barrier, &exited)) return;
    release_warp(b, w);
    if (!ran && !exited) return;
  }
}

// The order a pass resumes the block's threads in (forward, reverse, or a permutation new every pass;
// the warp orders list warp after warp, forward or reverse, lanes ascending).
std::vector<unsigned> thread_order(const Block& b, uint64_t pass_no) {
  const unsigned n = b.nthreads;
  const Schedule s = g_schedule;
  std::vector<unsigned> order(n);
  for (unsigned i = 0; i < n; ++i) order[i] = s.kind == Schedule::Reverse ? n - 1 - i : i;
  if (s.kind == Schedule::WarpReverse) {
    order.clear();
    for (unsigned w = (n + 31) / 32; w-- > 0;)
      for (unsigned i = w * 32; i < std::min(n, w * 32 + 32); ++i) order.push_back(i);
  }
  if (s.kind == Schedule::Shuffle) {
    uint64_t r = mix(s.seed ^ mix(pass_no));
    for (unsigned i = n; i > 1; --i) {
      r = mix(r);
      std::swap(order[i - 1], order[r % i]);
    }
  }
  return order;
}

// One pass: every ready fiber runs once (or, for the warp orders, each warp until it blocks).
void pass(Block& b, uint64_t pass_no) {
  const unsigned nw = (b.nthreads + 31) / 32;
  const Schedule s = g_schedule;
  if (s.kind == Schedule::Warp || s.kind == Schedule::WarpReverse) {
    for (unsigned k = 0; k < nw && !b.faulted; ++k) run_warp(b, s.kind == Schedule::Warp ? k : nw - 1 - k);
    return;
  }
  for (unsigned i : thread_order(b, pass_no)) {
    if (b.faulted) return;
    if (b.fibers[i].state == FiberState::Ready) run_fiber(b, b.fibers[i]);
  }
}

std::string thread_name(const Fiber& f) {
  return "thread (" + std::to_string(f.tid.x) + "," + std::to_string(f.tid.y) + "," + std::to_string(f.tid.z) + ")";
}
}  // namespace

std::string thread_name(const Block& b, unsigned linear) { return thread_name(b.fibers[linear]); }

namespace {

// After a pass nothing is ready: release full warp collectives, else the threads whose mbarrier
// phase completed, else the block barrier. Done when every fiber is done; Stuck when the rest wait
// on what this block alone cannot release (mbarriers, barrier.cluster: the cluster decides), or the
// block faulted (a divergent barrier, a collective after lanes exited).
enum class Step { Progress, Done, Stuck };

Step release(Block& b) {
  const unsigned nw = (b.nthreads + 31) / 32;
  bool released = false;
  for (unsigned w = 0; w < nw; ++w) {
    bool barrier = false, exited = false;
    if (warp_waiting(b, w, &barrier, &exited)) {
      if (exited) fault(b, "warp " + std::to_string(w) + ": a full-warp collective (shuffle or MMA) after some lanes exited");
      release_warp(b, w);
      released = true;
    } else if (barrier) {
      for (unsigned i = w * 32; i < std::min(b.nthreads, w * 32 + 32); ++i)
        if (b.fibers[i].state == FiberState::AtWarpSync)
          fault(b, "warp " + std::to_string(w) + ": lanes wait at a warp collective while others wait at __syncthreads");
    }
  }
  if (b.faulted) return Step::Stuck;
  if (released || release_mbarrier_waiters(b)) return b.faulted ? Step::Stuck : Step::Progress;
  unsigned at_barrier = 0, done = 0;
  const Fiber* exited = nullptr;
  for (const Fiber& f : b.fibers) {
    if (f.state == FiberState::AtBarrier) ++at_barrier;
    if (f.state == FiberState::Done) {
      ++done;
      exited = exited ? exited : &f;
    }
  }
  if (done == b.nthreads) return Step::Done;
  if (at_barrier == 0 || at_barrier + done < b.nthreads) return Step::Stuck;
  if (done > 0) {
    fault(b, std::to_string(at_barrier) + " threads wait at __syncthreads that " + std::to_string(done) +
                 " threads (the first " + thread_name(*exited) + ") exited before reaching (a divergent barrier)");
    return Step::Stuck;
  }
  for (Fiber& f : b.fibers)
    if (f.state == FiberState::AtBarrier) f.state = FiberState::Ready;
  ++b.epoch;  // accesses before the barrier are ordered before those after it
  return Step::Progress;
}

// barrier.cluster: released when every live thread of every block of the cluster waits at it.
bool release_cluster_barrier(const std::vector<Block*>& cl) {
  unsigned at = 0, live = 0;
  for (const Block* b : cl)
    for (const Fiber& f : b->fibers) {
      live += f.state != FiberState::Done;
      at += f.state == FiberState::AtClusterBarrier;
    }
  if (at == 0 || at != live) return false;
  for (Block* b : cl) {
    for (Fiber& f : b->fibers)
      if (f.state == FiberState::AtClusterBarrier) f.state = FiberState::Ready;
    ++b->epoch;
  }
  return true;
}

// Why a block that nothing left running can release is stuck (a deadlock).
std::string stuck(const Block& b) {
  unsigned at_barrier = 0, at_cluster = 0;
  for (const Fiber& f : b.fibers) {
    at_barrier += f.state == FiberState::AtBarrier;
    at_cluster += f.state == FiberState::AtClusterBarrier;
  }
  const std::string bars = mbarrier_deadlock(b);
  if (!bars.empty())
    return bars + (at_barrier ? " (" + std::to_string(at_barrier) + " threads wait at __syncthreads)" : "") +
           (at_cluster ? " (" + std::to_string(at_cluster) + " threads wait at barrier.cluster)" : "");
  return std::to_string(at_cluster) + " threads wait at barrier.cluster while " + std::to_string(at_barrier) +
         " threads wait at __syncthreads or threads of another block of the cluster wait elsewhere (a deadlock)";
}

// Starts a block: shared memory poisoned, epochs and exchange areas fresh, thread indices set.
void start_block(Block& b) {
  reset_shared(b);
  const unsigned nw = (b.nthreads + 31) / 32;
  b.block_start = ++b.epoch;  // nothing a previous block did counts as written, or races
  b.warp_epoch.assign(nw, 0);
  b.exchange.assign(static_cast<size_t>(nw) * 32, 0);
  b.mma.assign(static_cast<size_t>(nw) * 32 * 10, 0);
  for (unsigned i = 0; i < b.nthreads; ++i) {
    Fiber& f = b.fibers[i];
    f.linear = i;
    f.tid = {i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
    f.state = FiberState::Ready;
    f.copies.clear();
    f.committed = 0;
    f.wgmma.clear();
    f.wgmma_committed = 0;
  }
  b.mbarriers.clear();
  b.wg_operands.clear();  // poisoned afresh
}

// Makes b the running block (its blockIdx too).
void enter(Block& b) {
  tl_block = &b;
  blockIdx = b.block_idx;
}

bool any_fault(const std::vector<Block*>& cl) {
  for (const Block* b : cl)
    if (b->faulted) return true;
  return false;
}

// Under lead: the lowest-ranked block of the cluster that can go on by itself (a thread ready, or
// threads it can release: a warp collective, an mbarrier phase, its block barrier), or nullptr.
Block* lead_block(const std::vector<Block*>& cl) {
  for (Block* b : cl) {
    enter(*b);
    for (const Fiber& f : b->fibers)
      if (f.state == FiberState::Ready) return b;
    if (release(*b) == Step::Progress || b->faulted) return b;
  }
  return nullptr;
}

// Runs a cluster's blocks together (one block: a plain launch, an implicit cluster of one): each
// pass runs every block's ready fibers (under lead, those of lead_block's alone); when none is
// ready, each block releases what it can, then barrier.cluster; a cluster where nothing can be
// released is a deadlock.
void run_cluster(const std::vector<Block*>& cl) {
  for (Block* b : cl) {
    enter(*b);
    start_block(*b);
    for (Fiber& f : b->fibers) prepare_fiber(f);
  }
  const bool lead = g_schedule.kind == Schedule::Lead && cl.size() > 1;
  for (uint64_t p = 0;; ++p) {
    if (lead) {
      Block* const b = lead_block(cl);
      if (b != nullptr && !any_fault(cl)) {
        enter(*b);
        pass(*b, p);
        if (any_fault(cl)) break;
        continue;
      }
      if (any_fault(cl)) break;
    } else {
      for (Block* b : cl) {
        enter(*b);
        pass(*b, p);
        if (b->faulted) break;
      }
      if (any_fault(cl)) break;
      // a thread that yielded (an mbarrier arrival) runs again in the next pass, with the threads
      // its arrival released: no barrier is released while one is still running
      bool yielded = false;
      for (const Block* b : cl)
        for (const Fiber& f : b->fibers) yielded = yielded || f.state == FiberState::Ready;
      if (yielded) {
        for (Block* b : cl) enter(*b), release_mbarrier_waiters(*b);
        continue;
      }
    }
    bool progress = false, done = true;
    Block* blocked = nullptr;
    for (Block* b : cl) {
      enter(*b);
      const Step s = release(*b);
      progress = progress || s == Step::Progress;
      done = done && s == Step::Done;
      if (s == Step::Stuck && blocked == nullptr) blocked = b;
    }
    if (any_fault(cl) || done) break;
    if (progress || release_cluster_barrier(cl)) continue;
    enter(*blocked);
    fault(*blocked, stuck(*blocked));
    break;
  }
  for (Block* b : cl) {
    if (any_fault(cl)) break;
    enter(*b);
    const std::string unwaited = unwaited_copies(*b);
    if (!unwaited.empty()) fault(*b, unwaited);
  }
}

// A kernel launched barrier-free (MAE_LAUNCH_FLAT): each CUDA thread runs to its end as a plain call
// on this OS thread's stack, in the schedule's order, with no fiber; reaching a barrier or a warp
// collective is a fault (flat_violation).
void run_block_flat(Block& b) {
  start_block(b);
  for (unsigned i : thread_order(b, 0)) {
    Fiber& f = b.fibers[i];
    b.current = &f;
    threadIdx = f.tid;
    try {
      (*b.body)();
    } catch (const KernelFault&) {
      // recorded by fault_in_fiber
    } catch (const std::exception& e) {
      fault(b, thread_name(f) + ": a C++ exception escaped the kernel: " + e.what());
    }
    f.state = FiberState::Done;
    if (b.faulted) return;
  }
}

std::string block_name(const char* kernel) {
  return std::string("kernel ") + kernel + ", block (" + std::to_string(blockIdx.x) + "," +
         std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + ")";
}
}  // namespace

namespace {
bool parse_schedule(const std::string& v, Schedule* s) {
  if (v == "forward") s->kind = Schedule::Forward;
  else if (v == "reverse") s->kind = Schedule::Reverse;
  else if (v == "warp") s->kind = Schedule::Warp;
  else if (v == "warp-reverse") s->kind = Schedule::WarpReverse;
  else if (v == "lead") s->kind = Schedule::Lead;
  else if (v == "shuffle" || v.rfind("shuffle:", 0) == 0) {
    s->kind = Schedule::Shuffle;
    if (v.size() > 8) s->seed = std::strtoull(v.c_str() + 8, nullptr, 10);
  } else {
    return false;
  }
  return true;
}
}  // namespace

Schedule schedule_from_env() {
  Schedule s;
  const char* e = std::getenv("MAE_EMU_SCHEDULE");
  if (e == nullptr || *e == 0) return s;
  if (!parse_schedule(e, &s)) {
    std::fprintf(stderr, "MAE_EMU_SCHEDULE=%s: expected forward, reverse, shuffle[:SEED], warp, warp-reverse or lead\n", e);
    std::exit(2);
  }
  return s;
}

bool set_schedule_name(const char* name) {
  Schedule s;
  if (!parse_schedule(name, &s)) return false;
  g_schedule = s;
  return true;
}

void set_schedule(Schedule s) { g_schedule = s; }
void set_block_sample(unsigned n) { g_sample = n; }
int64_t tiles_step(int64_t first, int64_t end, int64_t step) {
  const int64_t n = (end - first + step - 1) / step;  // the block's tiles
  return g_sample == 0 || n <= 2 ? step : step * (n - 1);
}
Schedule current_schedule() { return g_schedule; }

namespace {
// MAE_EMU_TRACE=FILE: one line per grid run (kernel, grid, block, dynamic shared memory), appended,
// so tests can see which kernels a step reached.
void trace(const char* name, dim3 grid, dim3 block, size_t smem) {
  static const char* const path = std::getenv("MAE_EMU_TRACE");
  if (path == nullptr || *path == 0) return;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s %u,%u,%u %u,%u,%u %zu\n", name, grid.x, grid.y, grid.z, block.x, block.y, block.z, smem);
    std::fclose(f);
  }
}
}  // namespace

namespace {
// A grid's blocks: one, or a cluster's, each with its fibers, stacks and shared memory.
void setup_block(Block& b, const char* name, const std::function<void()>& body, dim3 block, size_t smem, bool flat) {
  b.body = &body;
  b.kernel = name;
  b.flat = flat;
  b.nthreads = block.x * block.y * block.z;
  b.fibers.resize(b.nthreads);
  if (!flat)
    for (Fiber& f : b.fibers) f.stack = take_stack();
  map_shared(b, smem);
  prepare_checks(b);
}

void teardown_block(Block& b) {
  for (Fiber& f : b.fibers)
    if (f.stack) give_stack(f.stack);
  unmap_shared(b);
}

// Block index of rank r of cluster number `at` (clusters numbered x fastest, ranks x fastest within).
uint3 cluster_block(uint64_t at, unsigned r, dim3 grid, dim3 cluster) {
  const uint64_t nx = grid.x / cluster.x, ny = grid.y / cluster.y;
  const uint64_t cx = at % nx, cy = at / nx % ny, cz = at / (nx * ny);
  return {static_cast<unsigned>(cx * cluster.x + r % cluster.x),
          static_cast<unsigned>(cy * cluster.y + r / cluster.x % cluster.y),
          static_cast<unsigned>(cz * cluster.z + r / (cluster.x * cluster.y))};
}
}  // namespace

cudaError_t run_grid(const char* name, const std::function<void()>& body, dim3 grid, dim3 block, size_t smem,
                     bool flat, dim3 cluster) {
  static const bool flat_allowed = std::getenv("MAE_EMU_FLAT") == nullptr || std::strcmp(std::getenv("MAE_EMU_FLAT"), "0") != 0;
  flat = flat && flat_allowed;  // MAE_EMU_FLAT=0: barrier-free kernels on fibers too (to compare)
  trace(name, grid, block, smem);
  const unsigned cs = cluster.x * cluster.y * cluster.z;
  std::vector<Block> blocks(cs);
  std::vector<Block*> members;
  for (Block& b : blocks) {
    setup_block(b, name, body, block, smem, flat);
    b.cluster = cs > 1 ? &members : nullptr;
    b.cluster_rank = static_cast<unsigned>(members.size());
    members.push_back(&b);
  }
  Block* const outer = tl_block;
  const dim3 outer_grid = gridDim, outer_block = blockDim;
  gridDim = grid;
  blockDim = block;
  std::string fault;
  const uint64_t total = uint64_t{grid.x} * grid.y * grid.z / cs;  // clusters
  const uint64_t want = g_sample ? std::max<uint64_t>(1, g_sample / cs) : total, runs = std::min(want, total);
  for (uint64_t j = 0; j < runs && fault.empty(); ++j) {
    // every cluster, or the middle cluster of each of `runs` equal strata of the grid (an unbiased
    // sample of its blocks: edge blocks, often partial tiles, weigh no more than their share)
    const uint64_t at =
        runs == total ? j : static_cast<uint64_t>(static_cast<unsigned __int128>(2 * j + 1) * total / (2 * runs));
    for (Block& b : blocks) {
      b.block_idx = cluster_block(at, b.cluster_rank, grid, cluster);
      enter(b);
      count_start(b);
    }
    if (flat) enter(blocks[0]), run_block_flat(blocks[0]);
    else run_cluster(members);
    for (Block& b : blocks) {
      enter(b);
      count_end(b);
      if (b.faulted && fault.empty()) fault = block_name(name) + ": " + b.fault;
    }
  }
  for (unsigned r = 1; r < cs; ++r) count_merge(blocks[0], blocks[r]);
  count_finish(blocks[0], name, grid, block, smem);
  for (Block& b : blocks) teardown_block(b);
  tl_block = outer;
  gridDim = outer_grid;
  blockDim = outer_block;
  tl_fault_detail = fault;
  if (!fault.empty()) set_last_error_detail(fault.c_str());
  return fault.empty() ? cudaSuccess : cudaErrorLaunchFailure;
}

const char* device_fault_detail() { return tl_fault_detail.c_str(); }

[[noreturn]] void fault_in_fiber(const std::string& what) {
  Block& b = *tl_block;
  if (!b.faulted) {
    b.faulted = true;
    b.fault = thread_name(*b.current) + ": " + what;
  }
  throw KernelFault{what};
}

namespace {
// A scheduling point reached in a kernel launched as barrier-free: the launch was wrong.
void flat_violation(const char* what) {
  fault_in_fiber(std::string(what) + " in a kernel launched as barrier-free (MAE_LAUNCH_FLAT): launch it with MAE_LAUNCH");
}
}  // namespace

void syncthreads() {
  Block& b = *tl_block;
  if (b.flat) flat_violation("__syncthreads()");
  b.current->state = FiberState::AtBarrier;
  suspend(b);
}

void warp_sync() {
  Block& b = *tl_block;
  if (b.flat) flat_violation("a warp collective (shuffle, MMA or __syncwarp)");
  b.current->state = FiberState::AtWarpSync;
  suspend(b);
}

[[noreturn]] void trap(const char* file, int line) {
  fault_in_fiber(std::string("__trap() at ") + file + ":" + std::to_string(line));
}

unsigned lane_id() { return tl_block->current->linear & 31u; }
unsigned warp_id() { return tl_block->current->linear >> 5; }
uint64_t* warp_exchange() { return tl_block->exchange.data() + static_cast<size_t>(warp_id()) * 32; }

}  // namespace mae_emu
