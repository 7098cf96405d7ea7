// resample.cpp: PIL's Image.resize(..., BICUBIC) for 8-bit HWC images with 1 to 4 channels, byte for
// byte the TypeScript transcription packages/mae/src/data/augment/resample.ts (resizeBicubicReference,
// itself transcribed from Pillow's libImaging/Resample.c): per-axis coefficients computed in double
// (cubic kernel a = -0.5, support widened by the downscale factor, normalised per output pixel) and
// rounded to 22-bit fixed point; the horizontal pass over the rows the vertical pass reads, into an
// 8-bit intermediate (rounded, clipped), then the vertical pass, both vectorised along contiguous
// bytes, 64 at a time with every tap summed in registers (the horizontal pass on rows transposed by
// pixel_transpose.cpp). cropResizeBicubicU8 resizes a crop box of the source straight into the
// caller's buffer, mirrored when asked (the loader's crop, resize, flip; the mirror folded into the
// horizontal pass's last transpose). The accumulator is int32 as in Pillow when no sum can overflow
// it (always, for real coefficients), int64 otherwise, so that the result equals the
// transcription's exact (double) sums in every case. Coefficients are remembered per (input, output)
// size and scratch buffers reused, per thread. Runs synchronously on the calling thread (main or
// worker), no OpenMP. This file is compiled with -ffp-contract=off (CMakeLists.txt): the
// coefficients must round as JavaScript's doubles do, without fused multiply-adds.
#include "resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pixel_transpose.h"
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

// ComputeCoeffs(inSize, outSize), remembered per thread: the loader resizes crops of a few hundred
// distinct sizes to one output size, again and again. Cleared when it holds kCachedAxes sizes.
// Shared, so that a caller still holds its coefficients when a later call clears the cache.
std::shared_ptr<const AxisCoeffs> CachedCoeffs(int inSize, int outSize) {
  constexpr size_t kCachedAxes = 512;
  thread_local std::unordered_map<uint64_t, std::shared_ptr<const AxisCoeffs>> cache;
  const uint64_t key = (static_cast<uint64_t>(inSize) << 32) | static_cast<uint32_t>(outSize);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kCachedAxes) cache.clear();
  auto c = std::make_shared<const AxisCoeffs>(ComputeCoeffs(inSize, outSize));
  cache.emplace(key, c);
  return c;
}

// A per-thread scratch buffer of at least n elements, uninitialised, reused from call to call.
template <typename T, int Slot>
T* Scratch(size_t n) {
  thread_local std::unique_ptr<T[]> buf;
  thread_local size_t cap = 0;
  if (n > cap) {
    buf.reset(new T[n]);
    cap = n;
  }
  return buf.get();
}

// Whether every sum HALF + sum(pixel * weight) fits int32 (then int32 arithmetic is exact).
bool FitsInt32(const AxisCoeffs& c) { return c.maxAbsSum * 255 + kHalf < (int64_t{1} << 31) - 1; }

template <typename Acc>
MAE_RESAMPLE_INLINE uint8_t Clip8(Acc v) {
  // v >= CLIP_HIGH -> 255, v <= 0 -> 0, otherwise v >> 22: the same as clamping first.
  return static_cast<uint8_t>(std::min<Acc>(std::max<Acc>(v, 0), kClipHigh) >> kPrecisionBits);
}

// Output bytes [i, i + L) of one output row of the vertical pass: the taps' sums in registers.
template <typename Acc, int L>
MAE_RESAMPLE_INLINE void VerticalSpan(const uint8_t* base, size_t srcStride, const int32_t* k, int n, size_t i,
                                      uint8_t* o) {
  Acc a[L];
  for (int j = 0; j < L; j++) a[j] = kHalf;
  for (int y = 0; y < n; y++) {
    const uint8_t* r = base + static_cast<size_t>(y) * srcStride + i;
    const Acc ky = k[y];
    for (int j = 0; j < L; j++) a[j] += static_cast<Acc>(r[j]) * ky;
  }
  for (int j = 0; j < L; j++) o[i + j] = Clip8<Acc>(a[j]);
}

// Vertical pass: src rows (each `srcStride` bytes apart, `rowBytes` of them read) are indexed from
// y0, the first row the coefficients read; out rows are rowBytes apart. Each output row in spans of
// 64 contiguous bytes (vectorised), every tap summed in registers before the next span. out must not
// overlap src.
template <typename Acc>
MAE_RESAMPLE_INLINE void Vertical(const uint8_t* src, size_t srcStride, size_t rowBytes, int y0, const AxisCoeffs& c,
                                  uint8_t* out) {
  constexpr int kSpan = 64;
  const int outH = static_cast<int>(c.first.size());
  for (int yy = 0; yy < outH; yy++) {
    const uint8_t* base = src + static_cast<size_t>(c.first[yy] - y0) * srcStride;
    const int32_t* k = c.weights.data() + static_cast<size_t>(yy) * c.ksize;
    const int n = c.count[yy];
    uint8_t* o = out + static_cast<size_t>(yy) * rowBytes;
    if (rowBytes >= kSpan) {
      // the last span overlaps the one before it where kSpan does not divide the row: the same
      // bytes written twice
      for (size_t i = 0; i < rowBytes; i += kSpan)
        VerticalSpan<Acc, kSpan>(base, srcStride, k, n, std::min(i, rowBytes - kSpan), o);
    } else {
      for (size_t i = 0; i < rowBytes; i++) VerticalSpan<Acc, 1>(base, srcStride, k, n, i, o);
    }
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

// The horizontal pass over rows [y0, y0 + rows) of src (w pixels per row, rows `stride` bytes
// apart) into out (c.first.size() pixels per row, packed): the rows transposed, so that the pass
// runs as a vertical one (vectorised along contiguous bytes), and the result transposed back. The
// sums are those of Pillow's horizontal loop in another order: the same integers (no overflow,
// FitsInt32), so the same bytes. With `mirror`, out's rows come out mirrored (the flip).
void RunHorizontal(const uint8_t* src, size_t stride, int w, int ch, int y0, int rows, const AxisCoeffs& c,
                   bool mirror, uint8_t* out) {
  const int outW = static_cast<int>(c.first.size());
  const size_t colBytes = static_cast<size_t>(rows) * ch;
  uint8_t* t = Scratch<uint8_t, 1>(static_cast<size_t>(w) * colBytes);
  uint8_t* tOut = Scratch<uint8_t, 2>(static_cast<size_t>(outW) * colBytes);
  TransposePixels(src, stride, w, ch, y0, rows, false, t);
  RunVertical(t, colBytes, colBytes, 0, c, tOut);
  TransposePixels(tOut, colBytes, rows, ch, 0, outW, mirror, out);
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

// PIL's resize(BICUBIC) of the w x h image at src (rows `stride` bytes apart) to outW x outH, packed,
// each row mirrored when `flip` (inside the horizontal pass when there is one: the vertical pass
// treats every column alike, so mirroring its input mirrors its output).
void Resize(const uint8_t* src, size_t stride, int w, int h, int ch, int outW, int outH, bool flip, uint8_t* out) {
  const size_t outRow = static_cast<size_t>(outW) * ch;
  if (w == outW && h == outH) {
    for (int y = 0; y < h; y++) std::memcpy(out + y * outRow, src + y * stride, outRow);
  } else if (w == outW) {
    RunVertical(src, stride, outRow, 0, *CachedCoeffs(h, outH), out);
  } else if (h == outH) {
    RunHorizontal(src, stride, w, ch, 0, h, *CachedCoeffs(w, outW), flip, out);
    return;
  } else {
    const std::shared_ptr<const AxisCoeffs> pv = CachedCoeffs(h, outH), ph = CachedCoeffs(w, outW);
    const AxisCoeffs& cv = *pv;
    const AxisCoeffs& chz = *ph;
    const int yFirst = cv.first[0];
    const int yLast = cv.first[outH - 1] + cv.count[outH - 1];
    uint8_t* tmp = Scratch<uint8_t, 3>(static_cast<size_t>(yLast - yFirst) * outRow);
    RunHorizontal(src, stride, w, ch, yFirst, yLast - yFirst, chz, flip, tmp);
    RunVertical(tmp, outRow, outRow, yFirst, cv, out);
    return;
  }
  if (flip) FlipRows(out, outW, outH, ch);
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
  Resize(src, static_cast<size_t>(w) * ch, w, h, ch, outW, outH, false, result.Data());
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
  Resize(src + top * stride + static_cast<size_t>(left) * ch, stride, bw, bh, ch, outW, outH,
         info[11].As<Napi::Boolean>().Value(), out);
  return env.Undefined();
}

}  // namespace mae_addon
