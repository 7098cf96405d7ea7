// cuda_fp16.h (emulator): __half as 16-bit storage with CUDA's conversions (float to half rounds
// to nearest even, overflow to infinity, subnormals kept, NaN stays NaN), for the host C++ build
// of the CUDA sources.
#pragma once
#include <cstdint>
#include <cstring>

struct __half {
  unsigned short __x;
};

inline float __half2float(__half h) {
  const uint32_t s = (h.__x & 0x8000u) << 16, e = (h.__x >> 10) & 0x1fu, m = h.__x & 0x3ffu;
  uint32_t u;
  if (e == 0x1f) {
    u = s | 0x7f800000u | (m << 13);  // inf / NaN
  } else if (e != 0) {
    u = s | ((e + 112) << 23) | (m << 13);
  } else if (m == 0) {
    u = s;
  } else {  // subnormal: normalise
    int k = -1;
    uint32_t mm = m;
    do {
      ++k;
      mm <<= 1;
    } while ((mm & 0x400u) == 0);
    u = s | ((112 - k) << 23) | ((mm & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline __half __float2half_rn(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t s = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7fffffffu;
  __half h;
  if (a > 0x7f800000u) {
    h.__x = static_cast<unsigned short>(s | 0x7e00u);
  } else if (a >= 0x477ff000u) {  // rounds to or beyond 65520: infinity
    h.__x = static_cast<unsigned short>(s | 0x7c00u);
  } else if (a >= 0x38800000u) {  // normal half
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - (112u << 23);
    h.__x = static_cast<unsigned short>(s | (r >> 13));
  } else if (a < 0x33000001u) {  // below half the smallest subnormal (ties to even: zero)
    h.__x = static_cast<unsigned short>(s);
  } else {  // subnormal half: round the 24-bit significand shifted into place
    const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14 + (112 - e)
    const uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    const uint32_t r = q + (rem > half || (rem == half && (q & 1u)) ? 1u : 0u);
    h.__x = static_cast<unsigned short>(s | r);
  }
  return h;
}
