// resample.cpp: PIL's Image.resize(..., BICUBIC) for 8-bit HWC images with 1 to 4 channels, byte for
// byte the TypeScript transcription packages/mae/src/data/augment/resample.ts (resizeBicubicReference,
// itself transcribed from Pillow's libImaging/Resample.c): per-axis coefficients computed in double
// (cubic kernel a = -0.5, support widened by the downscale factor, normalised per output pixel) and
// rounded to 22-bit fixed point; the horizontal pass over the rows the vertical pass reads, into an
// 8-bit intermediate (rounded, clipped), then the vertical pass. The accumulator is int32 as in Pillow
// when no sum can overflow it (always, for real coefficients), int64 otherwise, so that the result
// equals the transcription's exact (double) sums in every case. Runs synchronously on the calling
// thread (main or worker), no OpenMP. This file is compiled with -ffp-contract=off (CMakeLists.txt):
// the coefficients must round as JavaScript's doubles do, without fused multiply-adds.
#include "resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "util.h"

namespace mae_addon {
namespace {

// The passes' integer loops are compiled twice on x86-64, for the baseline and for AVX2 (chosen at
// load time by the CPU): integer arithmetic, the same result either way; the coefficients (double)
// are computed by baseline code only.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MAE_RESAMPLE_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef MAE_RESAMPLE_CLONES
#define MAE_RESAMPLE_CLONES
#endif
#define MAE_RESAMPLE_INLINE inline __attribute__((always_inline))

constexpr int kPrecisionBits = 22;
constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);
constexpr int32_t kClipHigh = 255 * (1 << kPrecisionBits);

struct AxisCoeffs {
  int ksize = 0;
  std::vector<int32_t> first, count, weights;
  int64_t maxAbsSum = 0;  // the largest sum of |weights| of one output pixel
};

double Bicubic(double x) {
  const double a = -0.5;
  const double t = std::fabs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

// precompute_coeffs and normalize_coeffs_8bpc for inSize -> outSize over the whole input.
AxisCoeffs ComputeCoeffs(int inSize, int outSize) {
  const double scale = static_cast<double>(inSize) / static_cast<double>(outSize);
  const double filterScale = std::max(scale, 1.0);
  const double support = 2 * filterScale;
  AxisCoeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(outSize);
  c.count.resize(outSize);
  c.weights.assign(static_cast<size_t>(outSize) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < outSize; xx++) {
    const double centre = (xx + 0.5) * scale;
    const int xmin = std::max(0, static_cast<int>(std::trunc(centre - support + 0.5)));
    const int xmax = std::min(c.ksize, std::min(inSize, static_cast<int>(std::trunc(centre + support + 0.5))) - xmin);
    double sum = 0;
    for (int x = 0; x < xmax; x++) {
      k[x] = Bicubic((static_cast<double>(x + xmin) - centre + 0.5) / filterScale);
      sum += k[x];
    }
    int64_t absSum = 0;
    int32_t* w = c.weights.data() + static_cast<size_t>(xx) * c.ksize;
    for (int x = 0; x < xmax; x++) {
      const double v = sum != 0 ? k[x] / sum : k[x];
      const double f = v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits);
      w[x] = static_cast<int32_t>(std::trunc(f));
      absSum += w[x] < 0 ? -static_cast<int64_t>(w[x]) : w[x];
    }
    c.first[xx] = xmin;
    c.count[xx] = std::max(0, xmax);
    c.maxAbsSum = std::max(c.maxAbsSum, absSum);
  }
  return c;
}

// Whether every sum HALF + sum(pixel * weight) fits int32 (then int32 arithmetic is exact).
bool FitsInt32(const AxisCoeffs& c) { return c.maxAbsSum * 255 + kHalf < (int64_t{1} << 31) - 1; }

template <typename Acc>
MAE_RESAMPLE_INLINE uint8_t Clip8(Acc v) {
  // v >= CLIP_HIGH -> 255, v <= 0 -> 0, otherwise v >> 22: the same as clamping first.
  return static_cast<uint8_t>(std::min<Acc>(std::max<Acc>(v, 0), kClipHigh) >> kPrecisionBits);
}

// Horizontal pass over rows [y0, y0 + rows) of src (width w) into out (width c.first.size()).
template <typename Acc, int CH>
MAE_RESAMPLE_INLINE void Horizontal(const uint8_t* src, int w, int y0, int rows, const AxisCoeffs& c, uint8_t* out) {
  const int outW = static_cast<int>(c.first.size());
  for (int y = 0; y < rows; y++) {
    const uint8_t* row = src + static_cast<size_t>(y0 + y) * w * CH;
    uint8_t* o = out + static_cast<size_t>(y) * outW * CH;
    for (int xx = 0; xx < outW; xx++) {
      const uint8_t* p = row + static_cast<size_t>(c.first[xx]) * CH;
      const int32_t* k = c.weights.data() + static_cast<size_t>(xx) * c.ksize;
      const int n = c.count[xx];
      Acc ss[CH];
      for (int b = 0; b < CH; b++) ss[b] = kHalf;
      for (int x = 0; x < n; x++) {
        const Acc kx = k[x];
        for (int b = 0; b < CH; b++) ss[b] += static_cast<Acc>(p[x * CH + b]) * kx;
      }
      for (int b = 0; b < CH; b++) o[xx * CH + b] = Clip8<Acc>(ss[b]);
    }
  }
}

// Vertical pass: src rows (each `stride` bytes) are indexed from y0, the first row the
// coefficients read. Accumulates a whole output row at once, tap by tap, so that the inner loop
// runs along contiguous bytes (vectorised).
template <typename Acc>
MAE_RESAMPLE_INLINE void Vertical(const uint8_t* src, size_t stride, int y0, const AxisCoeffs& c, uint8_t* out) {
  const int outH = static_cast<int>(c.first.size());
  std::vector<Acc> acc(stride);
  Acc* a = acc.data();
  for (int yy = 0; yy < outH; yy++) {
    const uint8_t* base = src + static_cast<size_t>(c.first[yy] - y0) * stride;
    const int32_t* k = c.weights.data() + static_cast<size_t>(yy) * c.ksize;
    const int n = c.count[yy];
    for (size_t i = 0; i < stride; i++) a[i] = kHalf;
    for (int y = 0; y < n; y++) {
      const uint8_t* r = base + static_cast<size_t>(y) * stride;
      const Acc ky = k[y];
      for (size_t i = 0; i < stride; i++) a[i] += static_cast<Acc>(r[i]) * ky;
    }
    uint8_t* o = out + static_cast<size_t>(yy) * stride;
    for (size_t i = 0; i < stride; i++) o[i] = Clip8<Acc>(a[i]);
  }
}

template <typename Acc>
MAE_RESAMPLE_INLINE void HorizontalAny(const uint8_t* src, int w, int ch, int y0, int rows, const AxisCoeffs& c, uint8_t* out) {
  switch (ch) {
    case 1: return Horizontal<Acc, 1>(src, w, y0, rows, c, out);
    case 2: return Horizontal<Acc, 2>(src, w, y0, rows, c, out);
    case 3: return Horizontal<Acc, 3>(src, w, y0, rows, c, out);
    default: return Horizontal<Acc, 4>(src, w, y0, rows, c, out);
  }
}

MAE_RESAMPLE_CLONES void RunHorizontal(const uint8_t* src, int w, int ch, int y0, int rows, const AxisCoeffs& c, uint8_t* out) {
  if (FitsInt32(c)) {
    HorizontalAny<int32_t>(src, w, ch, y0, rows, c, out);
  } else {
    HorizontalAny<int64_t>(src, w, ch, y0, rows, c, out);
  }
}

MAE_RESAMPLE_CLONES void RunVertical(const uint8_t* src, size_t stride, int y0, const AxisCoeffs& c, uint8_t* out) {
  if (FitsInt32(c)) {
    Vertical<int32_t>(src, stride, y0, c, out);
  } else {
    Vertical<int64_t>(src, stride, y0, c, out);
  }
}

}  // namespace

Napi::Value ResizeBicubicU8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "resizeBicubicU8";
  if (info.Length() != 6) {
    ThrowType(env, std::string(op) + ": expected (src, width, height, channels, dstWidth, dstHeight), got " +
                       std::to_string(info.Length()) + " arguments");
  }
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, std::string(op) + ": src must be a Uint8Array");
  }
  constexpr int64_t kMaxSide = int64_t{1} << 24;
  const int w = static_cast<int>(ParseInt(info[1], op, "width", 1, kMaxSide));
  const int h = static_cast<int>(ParseInt(info[2], op, "height", 1, kMaxSide));
  const int ch = static_cast<int>(ParseInt(info[3], op, "channels", 1, 4));
  const int outW = static_cast<int>(ParseInt(info[4], op, "dstWidth", 1, kMaxSide));
  const int outH = static_cast<int>(ParseInt(info[5], op, "dstHeight", 1, kMaxSide));
  const HostBytes in = TypedArrayBytes(info[0], op, "src");
  const uint64_t want = static_cast<uint64_t>(w) * static_cast<uint64_t>(h) * static_cast<uint64_t>(ch);
  if (in.bytes != want) {
    throw Napi::RangeError::New(env, std::string(op) + ": src has " + std::to_string(in.bytes) + " bytes; " +
                                         std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(ch) +
                                         " needs " + std::to_string(want));
  }
  const uint64_t outBytes = static_cast<uint64_t>(outW) * static_cast<uint64_t>(outH) * static_cast<uint64_t>(ch);
  if (outBytes > (uint64_t{1} << 32)) {
    throw Napi::RangeError::New(env, std::string(op) + ": " + std::to_string(outW) + "x" + std::to_string(outH) +
                                         "x" + std::to_string(ch) + " is too large an output");
  }
  Napi::Uint8Array result = Napi::Uint8Array::New(env, static_cast<size_t>(outBytes));
  const auto* src = static_cast<const uint8_t*>(in.data);
  uint8_t* out = result.Data();
  if (w == outW && h == outH) {
    if (outBytes > 0) std::memcpy(out, src, static_cast<size_t>(outBytes));
    return result;
  }
  const AxisCoeffs cv = ComputeCoeffs(h, outH);
  const size_t outStride = static_cast<size_t>(outW) * ch;
  if (w == outW) {
    RunVertical(src, outStride, 0, cv, out);
    return result;
  }
  const AxisCoeffs chz = ComputeCoeffs(w, outW);
  const int yFirst = cv.first[0];
  const int yLast = cv.first[outH - 1] + cv.count[outH - 1];
  if (h == outH) {
    RunHorizontal(src, w, ch, yFirst, yLast - yFirst, chz, out);  // yFirst = 0, yLast = h
    return result;
  }
  std::vector<uint8_t> tmp(static_cast<size_t>(yLast - yFirst) * outStride);
  RunHorizontal(src, w, ch, yFirst, yLast - yFirst, chz, tmp.data());
  RunVertical(tmp.data(), outStride, yFirst, cv, out);
  return result;
}

}  // namespace mae_addon
