// device_warp.cpp: the warp-level MMA of the tensor-core GEMMs and flash attention, emulated as a
// warp collective from the fragment layouts of PTX's mma.m16n8k16 with .bf16 inputs and .f32
// accumulators (PTX ISA, "Matrix Fragments for mma.m16n8k16"): with g = lane / 4 and t = lane % 4,
//   A (16x16, row-major): register r holds rows g + 8 (r & 1), columns 2t + 8 (r >> 1) + {0, 1}
//   B (16x8, column-major): register r holds rows (k) 2t + 8r + {0, 1}, column g
//   C, D (16x8): element i holds row g + 8 (i >> 1), column 2t + (i & 1)
// (in each register the lower 16 bits hold the even element). Each lane deposits its fragments,
// every lane computes its four outputs from all of them, in f32 (bf16 products are exact in f32;
// the order of the additions is the emulator's, not the tensor core's).
#include "device_internal.h"

namespace mae_emu {
namespace {
constexpr int kWords = 10;  // a[4], b[2], c[4] per lane

float bf16_half(uint32_t reg, int h) {
  const uint32_t bits = (h ? reg >> 16 : reg & 0xffffu) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// A[row][k] from the deposited fragments.
float a_at(const uint32_t* x, int row, int k) {
  const int lane = (row & 7) * 4 + ((k & 7) >> 1), reg = (row >> 3) | ((k >> 3) << 1);
  return bf16_half(x[lane * kWords + reg], k & 1);
}

// B[k][n] from the deposited fragments.
float b_at(const uint32_t* x, int k, int n) {
  const int lane = n * 4 + ((k & 7) >> 1), reg = k >> 3;
  return bf16_half(x[lane * kWords + 4 + reg], k & 1);
}
}  // namespace

void mma_bf16_16816(float* c, const uint32_t* a, const uint32_t* b) {
  Block& blk = *tl_block;
  count_mma(blk);
  const unsigned lane = lane_id();
  uint32_t* x = blk.mma.data() + static_cast<size_t>(warp_id()) * 32 * kWords;
  warp_sync();  // every lane has read the previous exchange
  uint32_t* mine = x + lane * kWords;
  for (int r = 0; r < 4; ++r) mine[r] = a[r];
  mine[4] = b[0];
  mine[5] = b[1];
  warp_sync();  // every lane has written
  const int g = static_cast<int>(lane >> 2), t = static_cast<int>(lane & 3);
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
    float s = c[i];
    for (int k = 0; k < 16; ++k) s += a_at(x, row, k) * b_at(x, k, col);
    c[i] = s;
  }
}

}  // namespace mae_emu
