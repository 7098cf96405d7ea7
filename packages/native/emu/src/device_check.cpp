// device_check.cpp: the emulator's access checks, what compute-sanitizer's memcheck, racecheck and
// initcheck do on a GPU. The kernels' translation unit is compiled with GCC's kernel-address
// instrumentation in its outline form (-fsanitize=kernel-address, every access a call; no shadow
// memory, no stack or global redzones: CMakeLists.txt), so every load and store of a kernel calls
// __asan_{load,store}{1,2,4,8,16,N}_noabort here. An access from a CUDA thread is then checked by
// where it points:
//   - the block's shared-memory window (device_shared.cpp): memcheck refuses bytes outside a
//     declared __shared__ variable or the launch's dynamic bytes; initcheck refuses a read of a byte
//     no thread of the block has written; racecheck refuses two threads touching a byte, one of them
//     writing, with no __syncthreads() between them (nor, in one warp, a warp collective);
//   - the devices' address space (api_arena.cpp): memcheck refuses bytes outside a live allocation,
//     naming the nearest one;
//   - anything else (the thread's stack, the launch's arguments, pinned host memory): not checked.
// The first violation faults the thread: the grid stops and the launch fails naming kernel, block,
// thread, address and what it hit. MAE_EMU_CHECK picks the checks: a comma list of memcheck,
// racecheck, initcheck, or all / none (default: all).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "device_internal.h"

namespace mae_emu {
namespace {

// The checks a comma list names (memcheck, racecheck, initcheck, all, none); false for another word.
bool parse_checks(const char* names, unsigned* out) {
  unsigned bits = 0;
  const std::string v(names);
  for (size_t at = 0; at <= v.size();) {
    const size_t comma = std::min(v.find(',', at), v.size());
    const std::string w = v.substr(at, comma - at);
    if (w == "memcheck") bits |= kMemcheck;
    else if (w == "racecheck") bits |= kRacecheck;
    else if (w == "initcheck") bits |= kInitcheck;
    else if (w == "all") bits |= kAllChecks;
    else if (w != "none") return false;
    at = comma + 1;
  }
  *out = bits;
  return true;
}

unsigned checks_from_env() {
  const char* e = std::getenv("MAE_EMU_CHECK");
  if (e == nullptr || *e == 0) return kAllChecks;
  unsigned bits = 0;
  if (!parse_checks(e, &bits)) {
    std::fprintf(stderr, "MAE_EMU_CHECK=%s: expected a comma list of memcheck, racecheck, initcheck, all, none\n", e);
    std::exit(2);
  }
  return bits;
}

unsigned g_checks = checks_from_env();

// ---- global memory ---------------------------------------------------------------------------
// The live allocations this OS thread's kernels touched lately (dropped whenever one is freed).
struct Recent {
  uintptr_t lo = 0, hi = 0;
};
thread_local Recent tl_recent[8];
thread_local unsigned tl_next = 0;
thread_local unsigned long long tl_frees = ~0ull;

std::string hex(uintptr_t a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a));
  return buf;
}

const char* verb(bool write) { return write ? "write" : "read"; }

void check_global(uintptr_t a, size_t n, bool write) {
  const unsigned long long frees = allocation_frees();
  if (frees != tl_frees) {
    for (Recent& r : tl_recent) r = Recent{};
    tl_frees = frees;
  }
  for (const Recent& r : tl_recent)
    if (a >= r.lo && a + n <= r.hi) return;
  Allocation x;
  if (find_allocation(reinterpret_cast<const void*>(a), n, &x)) {
    const uintptr_t lo = reinterpret_cast<uintptr_t>(x.base);
    tl_recent[tl_next++ % 8] = Recent{lo, lo + x.size};
    return;
  }
  fault_in_fiber("memcheck: " + std::string(verb(write)) + " of " + std::to_string(n) + " bytes at " + hex(a) +
                 ": " + describe_device_range(reinterpret_cast<const void*>(a), n));
}

// ---- shared memory ---------------------------------------------------------------------------
// Where an access lands in the window: the cell index of its first byte and what it is, or -1.
struct Place {
  long cell = -1;
  const char* slot = nullptr;  // the __shared__ variable's name; nullptr: dynamic shared memory
  size_t offset = 0;           // within it
};

// What a Place names, in words (for a fault only: the checks themselves build no strings).
std::string what(const Place& p) {
  return p.slot != nullptr ? std::string("__shared__ ") + p.slot : std::string("dynamic shared memory");
}

Place place(const Block& b, uintptr_t a, size_t n) {
  Place p;
  const uintptr_t st = reinterpret_cast<uintptr_t>(b.statics_base), dy = reinterpret_cast<uintptr_t>(b.dynamic_base);
  if (a >= st && a + n <= st + kStaticArea) {
    const size_t off = a - st;
    for (const auto& [slot, base] : b.slots)
      if (off >= base && off + n <= base + slot->bytes()) {
        p.cell = long(off), p.slot = slot->name(), p.offset = off - base;
        return p;
      }
    return p;
  }
  if (a >= dy && a + n <= dy + b.dynamic_bytes) p.cell = long(kStaticArea + (a - dy)), p.offset = a - dy;
  return p;
}

[[noreturn]] void shared_out_of_bounds(const Block& b, uintptr_t a, size_t n, bool write) {
  const uintptr_t st = reinterpret_cast<uintptr_t>(b.statics_base), dy = reinterpret_cast<uintptr_t>(b.dynamic_base);
  std::string where;
  if (a + n > dy - kSharedGap / 2 && b.dynamic_bytes > 0) {
    where = a >= dy ? std::to_string(a + n - dy - b.dynamic_bytes) + " bytes past the end of the " +
                          std::to_string(b.dynamic_bytes) + " bytes of dynamic shared memory"
                    : std::to_string(dy - a) + " bytes before the dynamic shared memory";
  } else if (a >= st && a < st + kStaticArea) {
    where = "byte " + std::to_string(a - st) + " of the static area, outside every __shared__ variable (";
    for (const auto& [slot, base] : b.slots)
      where += std::string(slot->name()) + " at " + std::to_string(base) + "+" + std::to_string(slot->bytes()) + " ";
    where += "declared so far)";
  } else {
    where = a < st ? std::to_string(st - a) + " bytes before the static shared area"
                   : std::to_string(a - st - kStaticArea) + " bytes past the 48 KiB static shared area";
  }
  fault_in_fiber("memcheck: " + std::string(verb(write)) + " of " + std::to_string(n) + " bytes of shared memory " +
                 "out of bounds: " + where);
}

// Whether an access by thread `t` now is ordered after one by `pt` at epochs (pB, pW).
bool ordered(const Block& b, unsigned t, uint16_t pt, uint32_t pB, uint32_t pW) {
  if (pB != b.epoch || pt == t) return true;
  return (pt >> 5) == (t >> 5) && pW != b.warp_epoch[t >> 5];
}

[[noreturn]] void race(const Block& b, const Place& p, size_t i, const std::string& hazard) {
  fault_in_fiber("racecheck: " + what(p) + ", byte " + std::to_string(p.offset + i) + ": " + hazard +
                 ", with no __syncthreads() between them (a shared-memory race)");
}

// commit false: only whether a write now would race (the cell keeps its state: cp.async's issue).
void check_cell(Block& b, const Place& p, size_t i, bool write, bool commit = true) {
  SharedCell& c = b.cells[size_t(p.cell) + i];
  const unsigned t = b.current->linear, w = t >> 5;
  const uint32_t W = b.warp_epoch[w];
  if ((g_checks & kInitcheck) && !write && c.wB < b.block_start)
    fault_in_fiber("initcheck: read of " + what(p) + ", byte " + std::to_string(p.offset + i) +
                   ", which no thread of this block has written");
  if (!(g_checks & kRacecheck)) {
    if (write) c.wB = b.epoch;
    return;
  }
  const bool wrote = c.wB >= b.block_start;
  if (wrote && c.wt != kAsync && !ordered(b, t, c.wt, c.wB, c.wW))
    race(b, p, i, thread_name(b, t) + (write ? " writes" : " reads") + " what " + thread_name(b, c.wt) + " wrote");
  if (write) {
    if (c.rB == b.epoch && c.rt != kNone && c.rt != t) {
      const bool one = c.rt != kMany;
      const bool fine = one ? ordered(b, t, c.rt, c.rB, c.rW) : (c.rwarp == w && c.rW != W);
      if (!fine)
        race(b, p, i, thread_name(b, t) + " writes what " + (one ? thread_name(b, c.rt) : std::string("other threads")) +
                          " read");
    }
    if (!commit) return;
    c.wt = uint16_t(t), c.wB = b.epoch, c.wW = W, c.rt = kNone, c.rB = 0;
    return;
  }
  if (c.rB != b.epoch || c.rt == kNone) {
    c.rt = uint16_t(t), c.rB = b.epoch, c.rW = W, c.rwarp = uint16_t(w);
  } else if (c.rt != t) {
    c.rwarp = c.rwarp == w ? c.rwarp : kMany;
    c.rt = kMany, c.rW = W;
  } else {
    c.rW = W;
  }
}

void check_shared(Block& b, uintptr_t a, size_t n, bool write) {
  const Place p = place(b, a, n);
  if (p.cell < 0) {
    if (g_checks & kMemcheck) shared_out_of_bounds(b, a, n, write);
    return;
  }
  if (b.cells.empty()) return;
  for (size_t i = 0; i < n; ++i) check_cell(b, p, i, write);
}

// pc: the access's site in the kernel (the performance counters group a warp's accesses by it).
inline void check(uintptr_t a, size_t n, bool write, uintptr_t pc) {
  Block* b = tl_block;
  if (b == nullptr || b->current == nullptr) return;
  const bool shared = a - reinterpret_cast<uintptr_t>(b->window) < b->window_bytes;
  if (shared && write) note_shared_write(*b, a, n);
  if (b->count != nullptr && (shared || device_address(reinterpret_cast<const void*>(a))))
    count_access(*b, pc, a, n, write, shared);
  if (g_checks == 0) return;
  if (shared) return check_shared(*b, a, n, write);
  if ((g_checks & kMemcheck) && device_address(reinterpret_cast<const void*>(a))) check_global(a, n, write);
}

}  // namespace

void check_only(uintptr_t a, size_t n, bool write) {
  Block* b = tl_block;
  if (b == nullptr || b->current == nullptr) return;
  const bool shared = a - reinterpret_cast<uintptr_t>(b->window) < b->window_bytes;
  if (shared && write) note_shared_write(*b, a, n);
  if (g_checks == 0) return;
  if (shared) return check_shared(*b, a, n, write);
  if ((g_checks & kMemcheck) && device_address(reinterpret_cast<const void*>(a))) check_global(a, n, write);
}

void check_async(uintptr_t a, size_t n, AsyncAccess what_) {
  Block* b = tl_block;
  if (b == nullptr || b->current == nullptr) return;
  const bool write = what_ == kAsyncWrite;
  if (write) note_shared_write(*b, a, n);
  if (g_checks == 0) return;
  const Place p = place(*b, a, n);
  if (p.cell < 0) {
    if (g_checks & kMemcheck) shared_out_of_bounds(*b, a, n, what_ != kAsyncRead);
    return;
  }
  if (b->cells.empty() || what_ == kAsyncBounds) return;
  for (size_t i = 0; i < n; ++i) {
    SharedCell& c = b->cells[size_t(p.cell) + i];
    if (write) {
      c.wt = kAsync, c.wB = b->epoch, c.wW = 0, c.rt = kNone, c.rB = 0;
    } else if ((g_checks & kInitcheck) && c.wB < b->block_start) {
      fault_in_fiber("initcheck: the asynchronous proxy (wgmma) reads " + what(p) + ", byte " +
                     std::to_string(p.offset + i) + ", which no thread or TMA copy of this block has written");
    }
  }
}

void check_write_hazard(uintptr_t a, size_t n) {
  Block* b = tl_block;
  if (b == nullptr || b->current == nullptr || !(g_checks & kRacecheck) || b->cells.empty()) return;
  const Place p = place(*b, a, n);
  if (p.cell < 0) return;  // memcheck reports it where the write lands
  for (size_t i = 0; i < n; ++i) check_cell(*b, p, i, true, false);
}

void count_only(uintptr_t a, size_t n, bool write, uintptr_t pc, bool async) {
  Block* b = tl_block;
  if (b == nullptr || b->current == nullptr || b->count == nullptr) return;
  const bool shared = a - reinterpret_cast<uintptr_t>(b->window) < b->window_bytes;
  if (shared || device_address(reinterpret_cast<const void*>(a))) count_access(*b, pc, a, n, write, shared, async);
}

void set_checks(unsigned bits) { g_checks = bits; }
bool set_check_names(const char* names) {
  unsigned bits = 0;
  if (names == nullptr || !parse_checks(names, &bits)) return false;
  g_checks = bits;
  return true;
}
unsigned checks() { return g_checks; }

void prepare_checks(Block& b) {
  b.epoch = b.block_start = 0;
  if (g_checks & (kRacecheck | kInitcheck)) b.cells.assign(kStaticArea + b.dynamic_bytes, SharedCell{0, 0, 0, 0, kNone, kNone, kNone});
  else b.cells.clear();
}

}  // namespace mae_emu

// The instrumentation's entry points (GCC's names for -fsanitize=kernel-address, outline form).
#define MAE_EMU_PC reinterpret_cast<uintptr_t>(__builtin_return_address(0))
#define MAE_EMU_ACCESS(n)                                                                                   \
  extern "C" void __asan_load##n##_noabort(uintptr_t a) { mae_emu::check(a, n, false, MAE_EMU_PC); }       \
  extern "C" void __asan_store##n##_noabort(uintptr_t a) { mae_emu::check(a, n, true, MAE_EMU_PC); }
MAE_EMU_ACCESS(1)
MAE_EMU_ACCESS(2)
MAE_EMU_ACCESS(4)
MAE_EMU_ACCESS(8)
MAE_EMU_ACCESS(16)
extern "C" void __asan_loadN_noabort(uintptr_t a, size_t n) { mae_emu::check(a, n, false, MAE_EMU_PC); }
extern "C" void __asan_storeN_noabort(uintptr_t a, size_t n) { mae_emu::check(a, n, true, MAE_EMU_PC); }
extern "C" void __asan_handle_no_return() {}
// (called around the dynamic initialisation of an instrumented file's globals: nothing to do here)
extern "C" void __asan_before_dynamic_init(const char*) {}
extern "C" void __asan_after_dynamic_init() {}
