// device_async.cpp: the sm_80 data movement the GEMM skeletons use beside the MMA, emulated as PTX
// defines it:
//   - cp.async (cp.async.cg.shared.global with a source size: zeros past it): the global bytes are
//     read (and checked) when the thread issues the copy, the shared bytes written (and checked)
//     when the thread waits for its group with cp.async.wait_group, the latest point they may land;
//     a read of the destination before that sees the poison of an unwritten byte (initcheck) or a
//     race. As the copy may also land at once, racecheck checks the destination at the issue too, as
//     a write that would race with what other threads read or wrote since the last barrier.
//     commit_group closes the thread's open group; a thread that ends with copies it never waited
//     for faults the launch.
//   - ldmatrix.m8n8 (.x1, .x2, .x4, optionally .trans; 16-bit elements): a warp collective; each
//     lane deposits its row address, then reads its elements of every matrix from the rows the
//     other lanes named, as the PTX ISA's fragment table for ldmatrix gives them.
// The performance counters see a cp.async as one global load of its source bytes (an asynchronous
// one: waited for at the wait_group that lands it, which they count as a wait) and one shared
// store, and an ldmatrix as one shared load of 16 bytes per addressing lane (8 lanes per phase:
// one phase per matrix, conflict-free when its eight rows fall in distinct banks).
#include "device_internal.h"

namespace mae_emu {
namespace {
#define MAE_EMU_CALLER reinterpret_cast<uintptr_t>(__builtin_return_address(0))

// Lands the copies of the groups before `upto` (commit counts): writes them to shared memory.
void land(Fiber& f, uint32_t upto) {
  size_t kept = 0;
  for (size_t i = 0; i < f.copies.size(); ++i) {
    AsyncCopy& c = f.copies[i];
    if (c.group < upto) {
      check_only(reinterpret_cast<uintptr_t>(c.dst), c.bytes, true);
      std::memcpy(c.dst, c.data, c.bytes);
    } else {
      f.copies[kept++] = c;
    }
  }
  f.copies.resize(kept);
}
}  // namespace

void cp_async(void* smem, const void* gmem, int bytes, int src_bytes) {
  Block& b = *tl_block;
  if (bytes != 4 && bytes != 8 && bytes != 16)
    fault_in_fiber("cp.async of " + std::to_string(bytes) + " bytes (4, 8 or 16)");
  if (src_bytes < 0 || src_bytes > bytes)
    fault_in_fiber("cp.async source size " + std::to_string(src_bytes) + " outside [0, " + std::to_string(bytes) + "]");
  const uintptr_t dst = reinterpret_cast<uintptr_t>(smem), src = reinterpret_cast<uintptr_t>(gmem);
  if (dst % bytes != 0 || (src_bytes > 0 && src % bytes != 0))
    fault_in_fiber("cp.async of " + std::to_string(bytes) + " bytes from a misaligned address");
  if (dst - reinterpret_cast<uintptr_t>(b.window) >= b.window_bytes)
    fault_in_fiber("cp.async to an address outside shared memory");
  const uintptr_t pc = MAE_EMU_CALLER;
  AsyncCopy c;
  c.dst = static_cast<unsigned char*>(smem);
  c.bytes = static_cast<uint8_t>(bytes);
  c.group = b.current->committed;
  if (src_bytes > 0) {
    check_only(src, static_cast<size_t>(src_bytes), false);
    std::memcpy(c.data, gmem, static_cast<size_t>(src_bytes));
    count_only(src, static_cast<size_t>(src_bytes), false, pc, true);
  }
  check_write_hazard(dst, static_cast<size_t>(bytes));  // it may land at once
  count_only(dst, static_cast<size_t>(bytes), true, pc + 1);  // another site: the shared store
  b.current->copies.push_back(c);
}

void cp_async_commit() { ++tl_block->current->committed; }

void cp_async_wait(int pending) {
  Fiber& f = *tl_block->current;
  const uint32_t n = static_cast<uint32_t>(pending < 0 ? 0 : pending);
  const size_t before = f.copies.size();
  land(f, f.committed > n ? f.committed - n : 0);
  if (f.copies.size() < before && tl_block->count != nullptr) count_async_wait(*tl_block, MAE_EMU_CALLER);
}

std::string unwaited_copies(const Block& b) {
  for (const Fiber& f : b.fibers) {
    if (!f.wgmma.empty())
      return thread_name(b, f.linear) + " ended with " + std::to_string(f.wgmma.size()) +
             " wgmma.mma_async it never waited for (wgmma.wait_group)";
    if (!f.copies.empty())
      return thread_name(b, f.linear) + " ended with " + std::to_string(f.copies.size()) +
             " cp.async copies it never waited for (cp.async.wait_group)";
  }
  return "";
}

void ldmatrix(uint32_t* r, int num, bool trans, const void* row) {
  if (num != 1 && num != 2 && num != 4) fault_in_fiber("ldmatrix .x" + std::to_string(num) + " (x1, x2 or x4)");
  const unsigned lane = lane_id();
  const uintptr_t mine = reinterpret_cast<uintptr_t>(row);
  if (lane < 8u * static_cast<unsigned>(num)) {
    if (mine % 16 != 0) fault_in_fiber("ldmatrix row address not 16-byte aligned");
    count_only(mine, 16, false, MAE_EMU_CALLER);
  }
  uint64_t* x = warp_exchange();
  warp_sync();  // every lane has read the previous exchange
  x[lane] = mine;
  warp_sync();  // every lane has written
  const unsigned g = lane >> 2, t = lane & 3;
  for (int i = 0; i < num; ++i) {
    uint16_t h[2];
    for (int e = 0; e < 2; ++e) {
      // the element (row, col) of matrix i this lane receives
      const unsigned rrow = trans ? 2 * t + e : g, col = trans ? g : 2 * t + e;
      const uintptr_t a = x[8 * i + rrow] + 2 * col;
      check_only(a, 2, false);
      std::memcpy(&h[e], reinterpret_cast<const void*>(a), 2);
    }
    r[i] = static_cast<uint32_t>(h[0]) | (static_cast<uint32_t>(h[1]) << 16);
  }
}

}  // namespace mae_emu
