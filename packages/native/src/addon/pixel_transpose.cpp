// pixel_transpose.cpp: TransposePixels (pixel_transpose.h). Every size runs through a scalar
// transpose in 32 x 32 pixel blocks (both sides stay in cache); on CPUs with AVX-512 VBMI, 3-byte
// pixels (RGB, the loader's case) go 16 x 16 pixels at a time through vector registers instead:
// each row's 48 bytes widened to 16 dwords (vpermb), a 16 x 16 dword transpose (unpacks and lane
// shuffles), narrowed back, with the edges left to the scalar path. The same bytes either way
// (test: the loader's resize against its TypeScript transcription, on sizes with and without
// 16-pixel edges).
#include "pixel_transpose.h"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*: a false "may be used uninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#define MAE_TRANSPOSE_VBMI 1
#endif

namespace mae_addon {
namespace {

// The source row that output column r reads.
inline int SourceRow(int y0, int rows, int r, bool mirror) { return y0 + (mirror ? rows - 1 - r : r); }

// Columns [c0, c1) and rows [r0, r1) of the transpose, pixel by pixel, in 32 x 32 blocks.
template <int CH>
void ScalarBlocks(const uint8_t* src, size_t stride, int c0, int c1, int y0, int rows, int r0, int r1, bool mirror,
                  uint8_t* dst) {
  constexpr int B = 32;
  for (int rb = r0; rb < r1; rb += B) {
    const int re = std::min(r1, rb + B);
    for (int cb = c0; cb < c1; cb += B) {
      const int ce = std::min(c1, cb + B);
      for (int r = rb; r < re; r++) {
        const uint8_t* s = src + static_cast<size_t>(SourceRow(y0, rows, r, mirror)) * stride + static_cast<size_t>(cb) * CH;
        uint8_t* d = dst + (static_cast<size_t>(cb) * rows + r) * CH;
        for (int c = cb; c < ce; c++, s += CH, d += static_cast<size_t>(rows) * CH) {
          for (int b = 0; b < CH; b++) d[b] = s[b];
        }
      }
    }
  }
}

template <int CH>
void Scalar(const uint8_t* src, size_t stride, int cols, int y0, int rows, bool mirror, uint8_t* dst) {
  ScalarBlocks<CH>(src, stride, 0, cols, y0, rows, 0, rows, mirror, dst);
}

#ifdef MAE_TRANSPOSE_VBMI
#define MAE_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))

// r[i] (16 dwords each) becomes the transpose: r[j] holds what was element j of every row.
MAE_VBMI inline void Transpose16x16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_i32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_i32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0xdd);
  }
}

// 3-byte pixels: 16 x 16 tiles in registers, the rest (fewer than 16 columns or rows) scalar.
MAE_VBMI void Rgb(const uint8_t* src, size_t stride, int cols, int y0, int rows, bool mirror, uint8_t* dst) {
  alignas(64) uint8_t widen[64], narrow[64];
  for (int j = 0; j < 16; j++) {
    for (int b = 0; b < 4; b++) widen[4 * j + b] = static_cast<uint8_t>(3 * j + std::min(b, 2));
    for (int b = 0; b < 3; b++) narrow[3 * j + b] = static_cast<uint8_t>(4 * j + b);
  }
  for (int i = 48; i < 64; i++) narrow[i] = 0;
  const __m512i wide = _mm512_load_si512(widen), thin = _mm512_load_si512(narrow);
  constexpr __mmask64 k48 = (__mmask64{1} << 48) - 1;
  const int cols16 = cols / 16 * 16, rows16 = rows / 16 * 16;
  const size_t dstStride = static_cast<size_t>(rows) * 3;
  for (int r0 = 0; r0 < rows16; r0 += 16) {
    for (int c0 = 0; c0 < cols16; c0 += 16) {
      __m512i v[16];
      for (int i = 0; i < 16; i++) {
        const uint8_t* s = src + static_cast<size_t>(SourceRow(y0, rows, r0 + i, mirror)) * stride + c0 * 3;
        v[i] = _mm512_permutexvar_epi8(wide, _mm512_maskz_loadu_epi8(k48, s));
      }
      Transpose16x16(v);
      for (int j = 0; j < 16; j++) {
        _mm512_mask_storeu_epi8(dst + static_cast<size_t>(c0 + j) * dstStride + r0 * 3, k48,
                                _mm512_permutexvar_epi8(thin, v[j]));
      }
    }
  }
  ScalarBlocks<3>(src, stride, cols16, cols, y0, rows, 0, rows, mirror, dst);
  ScalarBlocks<3>(src, stride, 0, cols16, y0, rows, rows16, rows, mirror, dst);
}

bool HaveVbmi() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
  }();
  return have;
}
#endif

}  // namespace

void TransposePixels(const uint8_t* src, size_t stride, int cols, int ch, int y0, int rows, bool mirror,
                     uint8_t* dst) {
  switch (ch) {
    case 1: return Scalar<1>(src, stride, cols, y0, rows, mirror, dst);
    case 2: return Scalar<2>(src, stride, cols, y0, rows, mirror, dst);
    case 3:
#ifdef MAE_TRANSPOSE_VBMI
      if (HaveVbmi()) return Rgb(src, stride, cols, y0, rows, mirror, dst);
#endif
      return Scalar<3>(src, stride, cols, y0, rows, mirror, dst);
    default: return Scalar<4>(src, stride, cols, y0, rows, mirror, dst);
  }
}

}  // namespace mae_addon
