// cpu_math.h: float exp and erf for the CPU kernels, written so that GCC and Clang inline and
// vectorise them inside loops (std::exp and std::erf are libm calls, one element at a time).
// exp: Cody-Waite reduction x = n ln2 + r with n rounded to nearest by the 1.5 * 2^23 trick,
// Cephes' degree-6 polynomial for e^r, and 2^n as two exact powers of two (so results down to the
// smallest subnormal come out right); 0 below -103.97, inf above 88.72, NaN kept.
// erf, branch-free (both pieces computed, one selected): |x| <= 1: x + x q(x^2), q of degree 7
// fitting erf(x)/x - 1; 1 < |x| < 4: 1 - exp(Q(|x| - 2.5) - x^2) with x^2 split exactly, Q of
// degree 11 fitting log(erfc t) + t^2 on [0.9, 4] (least squares on Chebyshev terms, fitted for
// this file); |x| >= 4: +-1. exp is within 1 ulp of the correctly rounded result and erf too
// (packages/codegen/test/emit/cpu_math.test.ts sweeps both against f64, compiled as the kernels
// are, vectorised): the after-steps parity checks need libm's accuracy, since AdamW magnifies the
// rounding of gradients near zero.
// mae_cpu_exp and mae_cpu_log: exp and log in a compute type (f32: mae_expf; f64: <cmath>), for the
// hand-written templates (cpu_flash.h), as the generated loops call them.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

static inline float mae_expf(float x) {
  const float hi = 88.72283935546875f, lo = -103.97208404541015625f;
  const float xc = x < lo ? lo : (x > hi ? hi : x);
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t ni = (int32_t)n, n1 = ni >> 1, n2 = ni - n1;
  const uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  const float y = p * s1 * s2;
  return x < lo ? 0.0f : (x > hi ? INFINITY : y);
}
static inline float mae_erff(float x) {
  const float t = std::fabs(x), s = x * x;
  // |x| <= 1: erf = x + x q(x^2), q = erf(x)/x - 1 (small, so the rounding stays under an ulp)
  float p = -9.809353286982514e-06f;
  p = p * s + 0.00011313144932501018f;
  p = p * s + -0.0008490199106745422f;
  p = p * s + 0.005221423227339983f;
  p = p * s + -0.026865558698773384f;
  p = p * s + 0.11283784359693527f;
  p = p * s + -0.37612637877464294f;
  p = p * s + 0.12837916612625122f;
  // 1 < |x| < 4: erf = 1 - exp(Q(|x| - 2.5) - x^2), x^2 split exactly (t = th + tl, th of 12 bits)
  uint32_t tb;
  std::memcpy(&tb, &t, 4);
  tb &= 0xfffff000u;
  float th;
  std::memcpy(&th, &tb, 4);
  const float tl = t - th, sh = th * th, sl = (2.0f * th) * tl + tl * tl;
  const float u = t - 2.5f;
  float q = 2.1132592564754304e-08f;
  q = q * u + -4.126938435433658e-08f;
  q = q * u + -1.9496110326144844e-07f;
  q = q * u + 1.8461001900504925e-06f;
  q = q * u + -1.2689484719885513e-05f;
  q = q * u + 7.693788938922808e-05f;
  q = q * u + -0.0004209850449115038f;
  q = q * u + 0.0021655268501490355f;
  q = q * u + -0.010858055204153061f;
  q = q * u + 0.05610625818371773f;
  q = q * u + -0.3526807427406311f;
  q = q * u + -1.556815266609192f;
  // every value computed before the selects, so that they compile to blends, not branches
  const float head = x + x * p, near = 1.0f - mae_expf((q - sh) - sl);
  const float tail = std::copysign(t >= 4.0f ? 1.0f : near, x);
  return t <= 1.0f ? head : tail;
}

static inline float mae_cpu_exp(float x) { return mae_expf(x); }
static inline double mae_cpu_exp(double x) { return std::exp(x); }
static inline float mae_cpu_log(float x) { return std::log(x); }
static inline double mae_cpu_log(double x) { return std::log(x); }
