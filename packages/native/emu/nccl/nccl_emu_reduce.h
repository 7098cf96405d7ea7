// nccl_emu_reduce.h: the element-wise reductions of libnccl_emu.so's all-reduce. Every rank reduces
// the same slots in rank order, acc = ((x0 op x1) op x2) ..., with the same code, so the results are
// bit-identical on every rank and from run to run. bf16 and fp16 are accumulated in float and
// rounded once, to nearest even, at the end; f32 in float, f64 in double; integers wrap around
// (two's complement) and average by truncating division. Max and min of floats propagate NaN.
// Avg is the sum divided by nranks. (Build without -ffast-math: the order is the contract.)
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "nccl_emu.h"

namespace nccl_emu {

// 16-bit conversions: CUDA's, as the emulator's cuda_bf16.h and cuda_fp16.h give them.
inline float bf16_to_f32(uint16_t h) { return __bfloat162float(__ushort_as_bfloat16(h)); }
inline uint16_t f32_to_bf16(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }
inline float f16_to_f32(uint16_t h) { return __half2float(__half{h}); }
inline uint16_t f32_to_f16(float f) { return __float2half_rn(f).__x; }

// A storage type S and the type A it is reduced in.
template <class T>
struct Plain {
  using S = T;
  using A = T;
  static A in(S v) { return v; }
  static S out(A a) { return a; }
};
struct Bf16 {
  using S = uint16_t;
  using A = float;
  static A in(S v) { return bf16_to_f32(v); }
  static S out(A a) { return f32_to_bf16(a); }
};
struct Half {
  using S = uint16_t;
  using A = float;
  static A in(S v) { return f16_to_f32(v); }
  static S out(A a) { return f32_to_f16(a); }
};

template <class A>
A wrap_add(A a, A b) {
  if constexpr (std::is_integral_v<A>) return A(std::make_unsigned_t<A>(a) + std::make_unsigned_t<A>(b));
  else return a + b;
}
template <class A>
A wrap_mul(A a, A b) {
  if constexpr (std::is_integral_v<A>) {
    using U = std::conditional_t<(sizeof(A) < sizeof(unsigned)), unsigned, std::make_unsigned_t<A>>;
    return A(U(a) * U(b));
  } else {
    return a * b;
  }
}
template <class A>
A pick_max(A a, A b) {
  if constexpr (std::is_floating_point_v<A>)
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? a : b;
  return b > a ? b : a;
}
template <class A>
A pick_min(A a, A b) {
  if constexpr (std::is_floating_point_v<A>)
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? a : b;
  return b < a ? b : a;
}

template <class A, int Op>
A combine(A a, A b) {
  if constexpr (Op == ncclSum || Op == ncclAvg) return wrap_add(a, b);
  else if constexpr (Op == ncclProd) return wrap_mul(a, b);
  else if constexpr (Op == ncclMax) return pick_max(a, b);
  else return pick_min(a, b);
}

// out[i] = reduce over r = 0..n-1 of slots[r][i], for i < len.
template <class Tr, int Op>
void reduce_slots(const char* const* slots, int n, void* out, size_t len) {
  using S = typename Tr::S;
  using A = typename Tr::A;
  S* o = static_cast<S*>(out);
  for (size_t i = 0; i < len; ++i) {
    A acc = Tr::in(reinterpret_cast<const S*>(slots[0])[i]);
    for (int r = 1; r < n; ++r) acc = combine<A, Op>(acc, Tr::in(reinterpret_cast<const S*>(slots[r])[i]));
    if constexpr (Op == ncclAvg) acc = acc / A(n);
    o[i] = Tr::out(acc);
  }
}

using ReduceFn = void (*)(const char* const* slots, int n, void* out, size_t len);

template <class Tr>
ReduceFn reduce_for_op(int op) {
  switch (op) {
    case ncclSum: return reduce_slots<Tr, ncclSum>;
    case ncclProd: return reduce_slots<Tr, ncclProd>;
    case ncclMax: return reduce_slots<Tr, ncclMax>;
    case ncclMin: return reduce_slots<Tr, ncclMin>;
    case ncclAvg: return reduce_slots<Tr, ncclAvg>;
    default: return nullptr;
  }
}

// The reduction of (datatype, op), or nullptr when either is unknown.
inline ReduceFn reduce_for(int datatype, int op) {
  switch (datatype) {
    case ncclInt8: return reduce_for_op<Plain<int8_t>>(op);
    case ncclUint8: return reduce_for_op<Plain<uint8_t>>(op);
    case ncclInt32: return reduce_for_op<Plain<int32_t>>(op);
    case ncclUint32: return reduce_for_op<Plain<uint32_t>>(op);
    case ncclInt64: return reduce_for_op<Plain<int64_t>>(op);
    case ncclUint64: return reduce_for_op<Plain<uint64_t>>(op);
    case ncclFloat16: return reduce_for_op<Half>(op);
    case ncclFloat32: return reduce_for_op<Plain<float>>(op);
    case ncclFloat64: return reduce_for_op<Plain<double>>(op);
    case ncclBfloat16: return reduce_for_op<Bf16>(op);
    default: return nullptr;
  }
}

// Bytes per element of datatype, 0 when unknown.
inline size_t type_size(int datatype) {
  static const size_t sizes[ncclNumTypes] = {1, 1, 4, 4, 8, 8, 2, 4, 8, 2};
  return datatype >= 0 && datatype < ncclNumTypes ? sizes[datatype] : 0;
}

}  // namespace nccl_emu
