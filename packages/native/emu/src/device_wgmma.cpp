// device_wgmma.cpp: sm_90a's warpgroup MMA, wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16
// with both operands in shared memory, emulated from the PTX ISA's definitions:
//   - the matrix descriptor (64 bits): start address bits [0, 14), leading-dimension byte offset
//     (LBO) [16, 30) and stride-dimension byte offset (SBO) [32, 46), each in 16-byte units; base
//     offset [49, 52) (0 here: the emulator faults otherwise); layout [62, 64): 0 none
//     (interleaved), 1 the 128-byte swizzle, 2 the 64-byte, 3 the 32-byte;
//   - the canonical layouts (CUTLASS's cute::GMMA, in elements of T = 8 bf16 per 16 bytes, with
//     x = swizzle bytes / 16), an element (mn, k) of a 64 x 16 A or 16 x N B at the byte offset
//       K-major (not transposed), swizzled:  ((8, m), (T, 2)) : ((xT, SBO), (1, T))
//       K-major, interleaved:                ((8, m), (T, 2)) : ((T, SBO), (1, LBO))
//       MN-major (transposed), swizzled:     ((T, x, m), (8, k)) : ((1, T, LBO), (xT, SBO))
//       MN-major, interleaved:               ((T, 1, m), (8, k)) : ((1, T, SBO), (T, LBO))
//     from the start address, then swizzled on the shared address as TMA writes it (the 16-byte
//     chunk bits [4, 4 + log2 x) XOR bits [7, 7 + log2 x));
//   - the accumulators: thread t of the warpgroup (warp w = t / 32 % 4, g = lane / 4, q = lane % 4)
//     holds d[i] = D[16 w + g + 8 ((i % 4) / 2)][8 (i / 4) + 2 q + i % 2], i in [0, N / 2);
//   - wgmma.fence orders register accesses (nothing to do here); commit_group closes the thread's
//     open group; wait_group N returns when all but the newest N groups are complete, and only
//     then are the accumulators written. The operands are read at the wait, or at the issue when
//     async_late() (device_hopper.cpp), so that a buffer released or refilled before the wait, or
//     one read before its TMA copy landed, gives wrong values or an initcheck fault. A thread that
//     ends with wgmma it never waited for fails the launch. Products are exact in f32; the order of
//     the additions is the emulator's (k ascending), not the tensor core's.
#include <algorithm>
#include <string>

#include "device_internal.h"

namespace mae_emu {
namespace {
struct Desc {
  uint32_t start, lbo, sbo, swizzle;  // bytes; swizzle span 0, 32, 64, 128
};

Desc decode(uint64_t d) {
  Desc x{static_cast<uint32_t>(d & 0x3fff) << 4, static_cast<uint32_t>((d >> 16) & 0x3fff) << 4,
         static_cast<uint32_t>((d >> 32) & 0x3fff) << 4, 0};
  if ((d >> 49) & 7) fault_in_fiber("wgmma: a matrix descriptor with a base offset (the emulator models 0)");
  static const uint32_t spans[4] = {0, 128, 64, 32};
  x.swizzle = spans[(d >> 62) & 3];
  return x;
}

// The byte offset of element (mn, k) from the start address, before the swizzle.
uint32_t offset(const Desc& d, bool mn_major, uint32_t mn, uint32_t k) {
  if (!mn_major) {
    const uint32_t r = mn % 8, i = mn / 8, kk = k % 8, j = k / 8;
    if (d.swizzle) return r * d.swizzle + i * d.sbo + kk * 2 + j * 16;
    return r * 16 + i * d.sbo + kk * 2 + j * d.lbo;
  }
  const uint32_t e = mn % 8, kr = k % 8, kg = k / 8;
  if (d.swizzle) {
    const uint32_t x = d.swizzle / 16, c = (mn / 8) % x, i = mn / (8 * x);
    return e * 2 + c * 16 + i * d.lbo + kr * d.swizzle + kg * d.sbo;
  }
  return e * 2 + (mn / 8) * d.sbo + kr * 16 + kg * d.lbo;
}

float element(const Desc& d, bool mn_major, uint32_t mn, uint32_t k, uintptr_t* at) {
  uint32_t a = d.start + offset(d, mn_major, mn, k);
  if (d.swizzle) a ^= ((a >> 7) & (d.swizzle / 16 - 1)) << 4;
  const void* p = shared_pointer(a);
  *at = reinterpret_cast<uintptr_t>(p);
  check_async(reinterpret_cast<uintptr_t>(p), 2, kAsyncRead);
  uint16_t h;
  std::memcpy(&h, p, 2);
  const uint32_t bits = uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// An operand (rows x 16) read through its descriptor, kept per block until a write touches the
// bytes it came from (the 128 threads of a warpgroup read the same one; the read is checked once).
constexpr size_t kWgmmaOperands = 64;  // a block's k steps of both operands of both warpgroups, and more

const float* operand(uint64_t desc, bool trans, int rows) {
  Block& b = *tl_block;
  Block::WgmmaOperand* slot = nullptr;
  for (Block::WgmmaOperand& o : b.wg_operands) {
    if (o.valid && o.desc == desc && o.trans == trans && o.rows == rows) return o.v.data();
    if (!o.valid && slot == nullptr) slot = &o;
  }
  if (slot == nullptr) {
    if (b.wg_operands.size() >= kWgmmaOperands) b.wg_operands.clear();
    b.wg_operands.emplace_back();
    slot = &b.wg_operands.back();
  }
  Block::WgmmaOperand& c = *slot;
  const Desc d = decode(desc);
  c.v.resize(static_cast<size_t>(rows) * 16);
  uintptr_t lo = ~uintptr_t{0}, hi = 0;
  for (int r = 0; r < rows; ++r)
    for (uint32_t k = 0; k < 16; ++k) {
      uintptr_t at = 0;
      c.v[r * 16 + k] = element(d, trans, static_cast<uint32_t>(r), k, &at);
      lo = std::min(lo, at), hi = std::max(hi, at + 2);
    }
  c.valid = true, c.desc = desc, c.trans = trans, c.rows = rows, c.lo = lo, c.hi = hi;
  return c.v.data();
}

// This thread's n / 2 results of op: base (its accumulators before the op) + A B, or A B.
void compute(const WgmmaOp& op, const float* base, float* out) {
  const unsigned t = tl_block->current->linear, w = (t >> 5) & 3, lane = t & 31, g = lane >> 2, q = lane & 3;
  const float* const a = operand(op.desc_a, op.trans_a, 64);
  const float* const b = operand(op.desc_b, op.trans_b, op.n);
  for (int j = 0; j < op.n / 8; ++j)
    for (int c = 0; c < 2; ++c) {
      const float* const bc = b + (8 * j + 2 * q + c) * 16;
      for (int h = 0; h < 2; ++h) {
        const float* const ar = a + (16 * w + g + 8 * h) * 16;
        const int i = 4 * j + 2 * h + c;
        float s = op.scale_d ? base[i] : 0.f;
        for (int k = 0; k < 16; ++k) s += ar[k] * bc[k];
        out[i] = s;
      }
    }
}
}  // namespace

void wgmma(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool scale_d, bool trans_a, bool trans_b) {
  Block& b = *tl_block;
  if (n < 8 || n > 256 || n % 8 != 0) fault_in_fiber("wgmma: n = " + std::to_string(n) + " (8 to 256, a multiple of 8)");
  if (b.nthreads % 128 != 0) fault_in_fiber("wgmma in a block that is not whole warpgroups (128 threads)");
  count_wgmma(b, n);
  Fiber& f = *b.current;
  WgmmaOp op;
  op.d = d, op.n = n, op.desc_a = desc_a, op.desc_b = desc_b, op.scale_d = scale_d;
  op.trans_a = trans_a, op.trans_b = trans_b, op.group = f.wgmma_committed;
  if (async_late()) {
    // read now; the accumulators it starts from are the latest pending result for d, if any
    const float* base = d;
    for (const WgmmaOp& p : f.wgmma)
      if (p.d == d && !p.out.empty()) base = p.out.data();
    op.out.assign(static_cast<size_t>(n / 2), 0.f);
    compute(op, base, op.out.data());
  }
  f.wgmma.push_back(std::move(op));
}

void wgmma_fence() {}

void wgmma_commit() { ++tl_block->current->wgmma_committed; }

void wgmma_wait(int pending) {
  Fiber& f = *tl_block->current;
  const uint32_t n = static_cast<uint32_t>(pending < 0 ? 0 : pending);
  const uint32_t upto = f.wgmma_committed > n ? f.wgmma_committed - n : 0;
  size_t kept = 0;
  for (size_t i = 0; i < f.wgmma.size(); ++i) {
    WgmmaOp& op = f.wgmma[i];
    if (op.group < upto) {
      if (op.out.empty()) {
        std::vector<float> out(static_cast<size_t>(op.n / 2));
        compute(op, op.d, out.data());
        std::memcpy(op.d, out.data(), out.size() * sizeof(float));
      } else {
        std::memcpy(op.d, op.out.data(), op.out.size() * sizeof(float));
      }
    } else {
      f.wgmma[kept++] = std::move(op);
    }
  }
  f.wgmma.resize(kept);
}

}  // namespace mae_emu
