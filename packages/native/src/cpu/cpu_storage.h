// cpu_storage.h: the floating storage formats of the CPU kernels as types, for the hand-written
// templates (cpu_flash.h): f32 and f64 as themselves, bf16 and f16 as their raw bits (half.h).
// mae_cpu_load<C>(format, s) widens a stored element to the compute type C (float or double) and
// mae_cpu_store(format, v) rounds a compute-type value to the format, as the generated loops do
// (codegen/src/emit/render.ts, CppRenderer.load and convert). Everything here has internal
// linkage: ops_cpu.cpp is compiled once per instruction set and its copies must not merge.
#pragma once
#include <cstdint>
#include "half.h"

struct mae_cpu_f32 {
  typedef float storage;
};
struct mae_cpu_f64 {
  typedef double storage;
};
struct mae_cpu_bf16 {
  typedef uint16_t storage;
};
struct mae_cpu_f16 {
  typedef uint16_t storage;
};

template <class C> static inline C mae_cpu_load(mae_cpu_f32, float s) { return (C)s; }
template <class C> static inline C mae_cpu_load(mae_cpu_f64, double s) { return (C)s; }
template <class C> static inline C mae_cpu_load(mae_cpu_bf16, uint16_t s) { return (C)mae_bf16_to_f32(s); }
template <class C> static inline C mae_cpu_load(mae_cpu_f16, uint16_t s) { return (C)mae_f16_to_f32(s); }

template <class C> static inline float mae_cpu_store(mae_cpu_f32, C v) { return (float)v; }
template <class C> static inline double mae_cpu_store(mae_cpu_f64, C v) { return (double)v; }
template <class C> static inline uint16_t mae_cpu_store(mae_cpu_bf16, C v) { return mae_f32_to_bf16((float)v); }
template <class C> static inline uint16_t mae_cpu_store(mae_cpu_f16, C v) { return mae_f32_to_f16((float)v); }
