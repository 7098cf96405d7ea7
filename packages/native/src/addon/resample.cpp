// resample.cpp: PIL's Image.resize(..., BICUBIC) for 8-bit HWC images with 1 to 4 channels, byte for
// byte the TypeScript transcription packages/mae/src/data/augment/resample.ts (resizeBicubicReference,
// itself transcribed from Pillow's libImaging/Resample.c): per-axis coefficients computed in double
// (cubic kernel a = -0.5, support widened by the downscale factor, normalised per output pixel) and
// rounded to 22-bit fixed point; the horizontal pass over the rows the vertical pass reads, into an
// 8-bit intermediate (rounded, clipped), then the vertical pass, both vectorised along contiguous
// bytes (the horizontal one on transposed rows). cropResizeBicubicU8 resizes a crop box of the
// source straight into the caller's buffer, mirrored when asked (the loader's crop, resize, flip). The accumulator is int32 as in Pillow
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

// The passes' integer loops are compiled three times on x86-64, for the baseline, AVX2 and AVX-512
// (x86-64-v4), chosen at load time by the CPU: integer arithmetic, the same result either way; the
// coefficients (double) are computed by baseline code only.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MAE_RESAMPLE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
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

// Vertical pass: src rows (each `srcStride` bytes apart, `rowBytes` of them read) are indexed from
// y0, the first row the coefficients read; out rows are rowBytes apart. Accumulates a whole output
// row at once, tap by tap, so that the inner loop runs along contiguous bytes (vectorised).
template <typename Acc>
MAE_RESAMPLE_INLINE void Vertical(const uint8_t* src, size_t srcStride, size_t rowBytes, int y0, const AxisCoeffs& c,
                                  uint8_t* out) {
  const int outH = static_cast<int>(c.first.size());
  std::vector<Acc> acc(rowBytes);
  Acc* a = acc.data();
  for (int yy = 0; yy < outH; yy++) {
    const uint8_t* base = src + static_cast<size_t>(c.first[yy] - y0) * srcStride;
    const int32_t* k = c.weights.data() + static_cast<size_t>(yy) * c.ksize;
    const int n = c.count[yy];
    for (size_t i = 0; i < rowBytes; i++) a[i] = kHalf;
    for (int y = 0; y < n; y++) {
      const uint8_t* r = base + static_cast<size_t>(y) * srcStride;
      const Acc ky = k[y];
      for (size_t i = 0; i < rowBytes; i++) a[i] += static_cast<Acc>(r[i]) * ky;
    }
    uint8_t* o = out + static_cast<size_t>(yy) * rowBytes;
    for (size_t i = 0; i < rowBytes; i++) o[i] = Clip8<Acc>(a[i]);
  }
}

MAE_RESAMPLE_CLONES void RunVertical(const uint8_t* src, size_t srcStride, size_t rowBytes, int y0,
                                     const AxisCoeffs& c, uint8_t* out) {
  if (FitsInt32(c)) {
    Vertical<int32_t>(src, srcStride, rowBytes, y0, c, out);
  } else {
    Vertical<int64_t>(src, srcStride, rowBytes, y0, c, out);
  }
}

// dst (cols x rows pixels of CH bytes, packed) = the transpose of rows [y0, y0 + rows) of src (cols
// pixels per row, rows `stride` bytes apart), in 32 x 32 pixel blocks so that both sides stay in cache.
template <int CH>
void TransposeBlocks(const uint8_t* src, size_t stride, int cols, int y0, int rows, uint8_t* dst) {
  constexpr int B = 32;
  for (int r0 = 0; r0 < rows; r0 += B) {
    const int r1 = std::min(rows, r0 + B);
    for (int c0 = 0; c0 < cols; c0 += B) {
      const int c1 = std::min(cols, c0 + B);
      for (int r = r0; r < r1; r++) {
        const uint8_t* s = src + static_cast<size_t>(y0 + r) * stride + static_cast<size_t>(c0) * CH;
        uint8_t* d = dst + (static_cast<size_t>(c0) * rows + r) * CH;
        for (int c = c0; c < c1; c++, s += CH, d += static_cast<size_t>(rows) * CH) {
          for (int b = 0; b < CH; b++) d[b] = s[b];
        }
      }
    }
  }
}

void Transpose(const uint8_t* src, size_t stride, int cols, int ch, int y0, int rows, uint8_t* dst) {
  switch (ch) {
    case 1: return TransposeBlocks<1>(src, stride, cols, y0, rows, dst);
    case 2: return TransposeBlocks<2>(src, stride, cols, y0, rows, dst);
    case 3: return TransposeBlocks<3>(src, stride, cols, y0, rows, dst);
    default: return TransposeBlocks<4>(src, stride, cols, y0, rows, dst);
  }
}

// The horizontal pass over rows [y0, y0 + rows) of src (w pixels per row, rows `stride` bytes
// apart) into out (c.first.size() pixels per row, packed): the rows transposed, so that the pass
// runs as a vertical one (vectorised along contiguous bytes), and the result transposed back. The
// sums are those of Pillow's horizontal loop in another order: the same integers (no overflow,
// FitsInt32), so the same bytes.
void RunHorizontal(const uint8_t* src, size_t stride, int w, int ch, int y0, int rows, const AxisCoeffs& c,
                   uint8_t* out) {
  const int outW = static_cast<int>(c.first.size());
  const size_t colBytes = static_cast<size_t>(rows) * ch;
  std::vector<uint8_t> t(static_cast<size_t>(w) * colBytes);
  std::vector<uint8_t> tOut(static_cast<size_t>(outW) * colBytes);
  Transpose(src, stride, w, ch, y0, rows, t.data());
  RunVertical(t.data(), colBytes, colBytes, 0, c, tOut.data());
  Transpose(tOut.data(), colBytes, rows, ch, 0, outW, out);
}

// PIL's resize(BICUBIC) of the w x h image at src (rows `stride` bytes apart) to outW x outH, packed.
void Resize(const uint8_t* src, size_t stride, int w, int h, int ch, int outW, int outH, uint8_t* out) {
  const size_t outRow = static_cast<size_t>(outW) * ch;
  if (w == outW && h == outH) {
    for (int y = 0; y < h; y++) std::memcpy(out + y * outRow, src + y * stride, outRow);
    return;
  }
  const AxisCoeffs cv = ComputeCoeffs(h, outH);
  if (w == outW) {
    RunVertical(src, stride, outRow, 0, cv, out);
    return;
  }
  const AxisCoeffs chz = ComputeCoeffs(w, outW);
  const int yFirst = cv.first[0];
  const int yLast = cv.first[outH - 1] + cv.count[outH - 1];
  if (h == outH) {
    RunHorizontal(src, stride, w, ch, 0, h, chz, out);
    return;
  }
  std::vector<uint8_t> tmp(static_cast<size_t>(yLast - yFirst) * outRow);
  RunHorizontal(src, stride, w, ch, yFirst, yLast - yFirst, chz, tmp.data());
  RunVertical(tmp.data(), outRow, outRow, yFirst, cv, out);
}

// Mirrors each row of a packed w x h image of ch-byte pixels in place.
void FlipRows(uint8_t* img, int w, int h, int ch) {
  for (int y = 0; y < h; y++) {
    uint8_t* row = img + static_cast<size_t>(y) * w * ch;
    for (int l = 0, r = w - 1; l < r; l++, r--) {
      for (int b = 0; b < ch; b++) std::swap(row[l * ch + b], row[r * ch + b]);
    }
  }
}

constexpr int64_t kMaxSide = int64_t{1} << 24;

const uint8_t* U8Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, size_t* bytes) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), std::string(op) + ": " + name + " must be a Uint8Array");
  }
  const HostBytes b = TypedArrayBytes(info[i], op, name);
  *bytes = b.bytes;
  return static_cast<const uint8_t*>(b.data);
}

void CheckBytes(Napi::Env env, const char* op, const char* name, size_t have, uint64_t w, uint64_t h, uint64_t ch) {
  if (have != w * h * ch) {
    throw Napi::RangeError::New(env, std::string(op) + ": " + name + " has " + std::to_string(have) + " bytes; " +
                                         std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(ch) +
                                         " needs " + std::to_string(w * h * ch));
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
  size_t inBytes = 0;
  const uint8_t* src = U8Arg(info, 0, op, "src", &inBytes);
  const int w = static_cast<int>(ParseInt(info[1], op, "width", 1, kMaxSide));
  const int h = static_cast<int>(ParseInt(info[2], op, "height", 1, kMaxSide));
  const int ch = static_cast<int>(ParseInt(info[3], op, "channels", 1, 4));
  const int outW = static_cast<int>(ParseInt(info[4], op, "dstWidth", 1, kMaxSide));
  const int outH = static_cast<int>(ParseInt(info[5], op, "dstHeight", 1, kMaxSide));
  CheckBytes(env, op, "src", inBytes, w, h, ch);
  const uint64_t outBytes = static_cast<uint64_t>(outW) * static_cast<uint64_t>(outH) * static_cast<uint64_t>(ch);
  if (outBytes > (uint64_t{1} << 32)) {
    throw Napi::RangeError::New(env, std::string(op) + ": " + std::to_string(outW) + "x" + std::to_string(outH) +
                                         "x" + std::to_string(ch) + " is too large an output");
  }
  Napi::Uint8Array result = Napi::Uint8Array::New(env, static_cast<size_t>(outBytes));
  Resize(src, static_cast<size_t>(w) * ch, w, h, ch, outW, outH, result.Data());
  return result;
}

Napi::Value CropResizeBicubicU8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "cropResizeBicubicU8";
  if (info.Length() != 12) {
    ThrowType(env, std::string(op) +
                       ": expected (dst, src, width, height, channels, left, top, boxWidth, boxHeight, dstWidth, "
                       "dstHeight, flip), got " +
                       std::to_string(info.Length()) + " arguments");
  }
  size_t outBytes = 0, inBytes = 0;
  uint8_t* out = const_cast<uint8_t*>(U8Arg(info, 0, op, "dst", &outBytes));
  const uint8_t* src = U8Arg(info, 1, op, "src", &inBytes);
  const int w = static_cast<int>(ParseInt(info[2], op, "width", 1, kMaxSide));
  const int h = static_cast<int>(ParseInt(info[3], op, "height", 1, kMaxSide));
  const int ch = static_cast<int>(ParseInt(info[4], op, "channels", 1, 4));
  const int left = static_cast<int>(ParseInt(info[5], op, "left", 0, w - 1));
  const int top = static_cast<int>(ParseInt(info[6], op, "top", 0, h - 1));
  const int bw = static_cast<int>(ParseInt(info[7], op, "boxWidth", 1, w - left));
  const int bh = static_cast<int>(ParseInt(info[8], op, "boxHeight", 1, h - top));
  const int outW = static_cast<int>(ParseInt(info[9], op, "dstWidth", 1, kMaxSide));
  const int outH = static_cast<int>(ParseInt(info[10], op, "dstHeight", 1, kMaxSide));
  if (!info[11].IsBoolean()) ThrowType(env, std::string(op) + ": flip must be a boolean");
  CheckBytes(env, op, "src", inBytes, w, h, ch);
  CheckBytes(env, op, "dst", outBytes, outW, outH, ch);
  const size_t stride = static_cast<size_t>(w) * ch;
  Resize(src + top * stride + static_cast<size_t>(left) * ch, stride, bw, bh, ch, outW, outH, out);
  if (info[11].As<Napi::Boolean>().Value()) FlipRows(out, outW, outH, ch);
  return env.Undefined();
}

}  // namespace mae_addon
