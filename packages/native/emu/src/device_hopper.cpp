// device_hopper.cpp: the sm_90a data movement the wgmma GEMM uses (src/device/hopper.cuh), emulated
// as PTX and the driver define it:
//   - shared addresses (cvta.to.shared): the static area from 0, the dynamic area after its 48 KiB,
//     so that alignment is kept and every address fits the 18 bits a wgmma descriptor holds;
//   - mbarriers: init(count) opens phase 0 expecting `count` arrivals; arrive takes one, arrive.
//     expect_tx also adds transaction bytes; a phase completes when its arrivals are in and its
//     transactions done, and the next opens with `count` arrivals again. A wait on parity p returns
//     once the phase of that parity has completed (the current phase's parity differs from p), so a
//     fresh barrier passes a wait on parity 1 at once. A thread that waits is suspended until then;
//     threads left waiting when nothing else can run are a deadlock, and the launch fails naming the
//     barrier and what it still expects. Arriving on a phase whose arrivals are all in is a fault.
//     An arrival is a scheduling point: the arriving thread yields, so that the threads it
//     releases may run (and refill a buffer) before it goes on.
//   - TMA (cp.async.bulk.tensor, tiled, rank 1-5): the box at the given element coordinates is read
//     when the copy is issued (elements outside the tensor read as zeros), laid out in shared memory
//     row by row (the box's first dimension contiguous) and swizzled as the map says: with a swizzle
//     of S bytes (32, 64, 128), the 16-byte chunk at address bits [4, 4 + log2(S / 16)) is XORed with
//     address bits [7, 7 + log2(S / 16)) (Swizzle<B, 4, 3> on the shared address); the box bytes
//     count against the barrier's transactions. The copy lands (its bytes written to shared memory)
//     as soon as its barrier's arrivals are in, or, when async_late(), only when a thread waits on
//     that barrier; a read of the destination before then sees poison.
// Tensor maps are this file's own encoding in the 128 opaque bytes (a magic word, then the spec),
// with the driver's checks: 16-byte aligned base and strides, boxes of 1-256 elements whose first
// dimension spans a multiple of 16 bytes, at most the swizzle's span when swizzled.
#include <algorithm>
#include <string>

#include "device_internal.h"

namespace mae_emu {
namespace {
constexpr uint32_t kMapMagic = 0x70616d74u;  // "tmap"
struct EncodedMap {
  uint32_t magic;
  TmaSpec spec;
};
static_assert(sizeof(EncodedMap) <= 128, "a CUtensorMap has 128 bytes");

std::string hexa(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", a);
  return buf;
}

Mbarrier& bar_at(uint64_t* p, const char* what) {
  Block& b = *tl_block;
  const uintptr_t u = reinterpret_cast<uintptr_t>(p);
  if (u % 8 != 0) fault_in_fiber(std::string(what) + ": mbarrier address not 8-byte aligned");
  const uint32_t a = shared_address(p);
  Mbarrier* m = find_mbarrier(b, a);
  if (m == nullptr) fault_in_fiber(std::string(what) + " on shared " + hexa(a) + ", which no mbarrier.init set up");
  return *m;
}

void land(Mbarrier& m) {
  for (TmaCopy& c : m.inflight) {
    check_async(reinterpret_cast<uintptr_t>(c.dst), c.bytes.size(), kAsyncWrite);
    std::memcpy(c.dst, c.bytes.data(), c.bytes.size());
    m.tx -= static_cast<int64_t>(c.bytes.size());
  }
  m.inflight.clear();
}

// Completes the current phase if it can: arrivals in, copies landed (now, or when `waiting` under
// the late mode), transactions done.
void advance(Mbarrier& m, bool waiting) {
  if (m.pending != 0) return;
  if (!m.inflight.empty() && (waiting || !async_late())) land(m);
  if (m.inflight.empty() && m.tx == 0) {
    m.tx_done[m.phases & 1] = m.tx_now;
    m.tx_now = false;
    ++m.phases;
    m.pending = m.count;
  }
}

bool passed(const Mbarrier& m, unsigned parity) { return (m.phases & 1u) != (parity & 1u); }

void arrive(Mbarrier& m, const char* what) {
  // an arrival that completes a phase is a scheduling point: the threads it releases may run
  // before the caller goes on (so that a buffer released too early is refilled before the
  // caller's pending reads)
  Block& b = *tl_block;
  if (mbarrier_arrive_on(m, what) && !b.flat) {
    b.current->state = FiberState::Ready;
    suspend(b);
  }
}

const EncodedMap& decode(const void* map128) {
  const EncodedMap& e = *static_cast<const EncodedMap*>(map128);
  if (reinterpret_cast<uintptr_t>(map128) % 64 != 0) fault_in_fiber("TMA: tensor map not 64-byte aligned");
  if (e.magic != kMapMagic) fault_in_fiber("TMA: the tensor map was not encoded (cuTensorMapEncodeTiled)");
  return e;
}

// The shared address of byte `off` of a box row laid out from `row_addr`, swizzled.
uint32_t swizzled(uint32_t addr, unsigned swizzle_bytes) {
  if (swizzle_bytes == 0) return addr;
  const uint32_t mask = swizzle_bytes / 16 - 1;  // 1, 3 or 7 chunk bits
  return addr ^ (((addr >> 7) & mask) << 4);
}
}  // namespace

Mbarrier* find_mbarrier(Block& b, uint32_t a) {
  for (Mbarrier& m : b.mbarriers)
    if (m.addr == a) return &m;
  return nullptr;
}

bool mbarrier_arrive_on(Mbarrier& m, const char* what) {
  if (m.pending == 0)
    fault_in_fiber(std::string(what) + " on shared " + hexa(m.addr) + ": every arrival of the current phase is in (" +
                   std::to_string(m.tx) + " transaction bytes pending)");
  --m.pending;
  const uint32_t before = m.phases;
  advance(m, false);
  return m.phases != before;
}

uint32_t shared_address(const void* p) {
  const Block& b = *tl_block;
  const uintptr_t u = reinterpret_cast<uintptr_t>(p), st = reinterpret_cast<uintptr_t>(b.statics_base),
                  dy = reinterpret_cast<uintptr_t>(b.dynamic_base);
  uint64_t a = ~0ull;
  if (u >= st && u < st + kStaticArea) a = u - st;
  else if (u >= dy && u <= dy + b.dynamic_bytes) a = kStaticArea + (u - dy);
  if (a >= (1u << 18)) fault_in_fiber("a shared-memory address outside the block's shared memory (or past 256 KiB)");
  return static_cast<uint32_t>(a);
}

void* shared_pointer(uint32_t a) {
  const Block& b = *tl_block;
  if (a < kStaticArea) return b.statics_base + a;
  if (a - kStaticArea <= b.dynamic_bytes) return b.dynamic_base + (a - kStaticArea);
  fault_in_fiber("shared address " + hexa(a) + " outside the block's shared memory");
}

void mbarrier_init(uint64_t* p, unsigned count) {
  Block& b = *tl_block;
  if (reinterpret_cast<uintptr_t>(p) % 8 != 0) fault_in_fiber("mbarrier.init: address not 8-byte aligned");
  check_async(reinterpret_cast<uintptr_t>(p), 8, kAsyncBounds);
  if (count == 0 || count >= (1u << 20)) fault_in_fiber("mbarrier.init: count " + std::to_string(count) + " outside [1, 2^20)");
  const uint32_t a = shared_address(p);
  Mbarrier* m = find_mbarrier(b, a);
  if (m == nullptr) {
    b.mbarriers.emplace_back();
    m = &b.mbarriers.back();
  }
  *m = Mbarrier{};
  m->addr = a, m->count = count, m->pending = count;
}

void mbarrier_arrive(uint64_t* p) { arrive(bar_at(p, "mbarrier.arrive"), "mbarrier.arrive"); }

void mbarrier_arrive_expect_tx(uint64_t* p, unsigned bytes) {
  Mbarrier& m = bar_at(p, "mbarrier.arrive.expect_tx");
  m.tx += bytes;
  m.tx_now = true;
  arrive(m, "mbarrier.arrive.expect_tx");
}

void mbarrier_wait(uint64_t* p, unsigned parity) {
  Block& b = *tl_block;
  if (b.flat) fault_in_fiber("an mbarrier wait in a kernel launched as barrier-free (MAE_LAUNCH_FLAT)");
  Mbarrier& m = bar_at(p, "mbarrier.try_wait.parity");
  advance(m, true);
  if (!passed(m, parity)) {
    b.current->wait_bar = m.addr;
    b.current->wait_parity = parity;
    b.current->state = FiberState::AtMbarrier;
    suspend(b);
  }
  // the phase waited for (the last of its parity) carried TMA copies: a wait for loads
  if (b.count != nullptr && bar_at(p, "mbarrier.try_wait.parity").tx_done[parity & 1])
    count_async_wait(b, reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}

bool release_mbarrier_waiters(Block& b) {
  bool any = false;
  for (Fiber& f : b.fibers) {
    if (f.state != FiberState::AtMbarrier) continue;
    Mbarrier* m = find_mbarrier(b, f.wait_bar);
    if (m == nullptr) continue;  // re-initialised away: a deadlock, reported below
    Fiber* const was = b.current;
    b.current = &f;  // a landing's checks name the waiting thread
    advance(*m, true);
    b.current = was;
    if (passed(*m, f.wait_parity)) {
      f.state = FiberState::Ready;
      any = true;
    }
  }
  return any;
}

std::string mbarrier_deadlock(const Block& b) {
  unsigned n = 0;
  const Fiber* first = nullptr;
  for (const Fiber& f : b.fibers)
    if (f.state == FiberState::AtMbarrier) ++n, first = first ? first : &f;
  if (first == nullptr) return "";
  std::string what = std::to_string(n) + " threads (the first " + thread_name(b, first->linear) +
                     ") wait on mbarriers that nothing left running can complete (a deadlock): shared " +
                     hexa(first->wait_bar) + ", parity " + std::to_string(first->wait_parity);
  for (const Mbarrier& m : b.mbarriers)
    if (m.addr == first->wait_bar)
      what += ", " + std::to_string(m.phases) + " phases completed, " + std::to_string(m.pending) + " of " +
              std::to_string(m.count) + " arrivals and " + std::to_string(m.tx) + " transaction bytes pending";
  return what;
}

bool async_late() {
  const Schedule s = current_schedule();
  return s.kind == Schedule::Reverse || s.kind == Schedule::WarpReverse;
}

const char* tma_encode(void* map128, const TmaSpec& s) {
  if (reinterpret_cast<uintptr_t>(map128) % 64 != 0) return "the tensor map is not 64-byte aligned";
  if (s.rank < 1 || s.rank > 5) return "rank outside [1, 5]";
  if (s.elem_bytes != 1 && s.elem_bytes != 2 && s.elem_bytes != 4 && s.elem_bytes != 8) return "element size";
  if (reinterpret_cast<uintptr_t>(s.base) % 16 != 0) return "global address not 16-byte aligned";
  if (s.swizzle_bytes != 0 && s.swizzle_bytes != 32 && s.swizzle_bytes != 64 && s.swizzle_bytes != 128)
    return "swizzle not 0, 32, 64 or 128 bytes";
  for (unsigned i = 0; i < s.rank; ++i) {
    if (s.dims[i] == 0 || s.dims[i] > (1ull << 32)) return "a dimension outside [1, 2^32]";
    if (s.box[i] == 0 || s.box[i] > 256) return "a box dimension outside [1, 256]";
    if (i > 0 && (s.strides[i] % 16 != 0 || s.strides[i] >= (1ull << 40))) return "a stride not a multiple of 16 bytes";
  }
  if (s.box[0] * s.elem_bytes % 16 != 0) return "the box's first dimension does not span a multiple of 16 bytes";
  if (s.swizzle_bytes != 0 && s.box[0] * s.elem_bytes > s.swizzle_bytes)
    return "the box's first dimension spans more bytes than the swizzle";
  // (the driver allows less; the emulator models swizzled rows that fill the swizzle's span)
  if (s.swizzle_bytes != 0 && s.box[0] * s.elem_bytes != s.swizzle_bytes)
    return "the emulator models swizzled boxes whose first dimension spans the swizzle exactly";
  EncodedMap e{kMapMagic, s};
  std::memset(map128, 0, 128);
  std::memcpy(map128, &e, sizeof e);
  return "";
}

const TmaSpec& tma_spec(const void* map128) { return decode(map128).spec; }

TmaCopy tma_box(const TmaSpec& s, const int32_t* c, uint32_t d0) {
  const uint32_t align = s.swizzle_bytes ? 8 * s.swizzle_bytes : 128;
  if (d0 % align != 0)
    fault_in_fiber("cp.async.bulk.tensor: shared destination " + hexa(d0) + " not " + std::to_string(align) +
                   "-byte aligned");
  uint64_t rows = 1;
  for (unsigned i = 1; i < s.rank; ++i) rows *= s.box[i];
  const size_t row_bytes = size_t{s.box[0]} * s.elem_bytes;
  TmaCopy copy;
  copy.bytes.assign(rows * row_bytes, 0);
  std::vector<std::pair<uintptr_t, size_t>> read;  // global runs, for the counters
  std::vector<unsigned char> row(row_bytes);
  for (uint64_t r = 0; r < rows; ++r) {
    int64_t off = 0;
    bool in = true;
    uint64_t q = r;
    for (unsigned i = 1; i < s.rank; ++i) {
      const int64_t x = int64_t{c[i]} + static_cast<int64_t>(q % s.box[i]);
      q /= s.box[i];
      in = in && x >= 0 && x < static_cast<int64_t>(s.dims[i]);
      off += x * static_cast<int64_t>(s.strides[i]);
    }
    std::fill(row.begin(), row.end(), 0);
    for (uint32_t e = 0; e < s.box[0] && in; ++e) {
      const int64_t x = int64_t{c[0]} + e;
      if (x < 0 || x >= static_cast<int64_t>(s.dims[0])) continue;
      const uintptr_t g = reinterpret_cast<uintptr_t>(s.base) + off + x * s.elem_bytes;
      check_only(g, s.elem_bytes, false);
      std::memcpy(&row[e * s.elem_bytes], reinterpret_cast<const void*>(g), s.elem_bytes);
      if (!read.empty() && read.back().first + read.back().second == g) read.back().second += s.elem_bytes;
      else read.emplace_back(g, s.elem_bytes);
    }
    for (size_t k = 0; k < row_bytes; k += 16) {
      const uint32_t at = swizzled(d0 + static_cast<uint32_t>(r * row_bytes + k), s.swizzle_bytes) - d0;
      std::memcpy(&copy.bytes[at], &row[k], 16);
    }
  }
  count_tma(*tl_block, reinterpret_cast<uintptr_t>(s.base), read);
  return copy;
}

// In the block that owns m (the running one, or InBlock's).
void tma_deliver(Mbarrier& m, TmaCopy copy) {
  check_async(reinterpret_cast<uintptr_t>(copy.dst), copy.bytes.size(), kAsyncBounds);  // written when it lands
  m.inflight.push_back(std::move(copy));
  advance(m, false);
}

void tma_load(void* dst, const void* map128, const int32_t* c, uint64_t* bar) {
  const TmaSpec& s = tma_spec(map128);
  Mbarrier& m = bar_at(bar, "cp.async.bulk.tensor");
  TmaCopy copy = tma_box(s, c, shared_address(dst));
  copy.dst = static_cast<unsigned char*>(dst);
  tma_deliver(m, std::move(copy));
}

}  // namespace mae_emu
