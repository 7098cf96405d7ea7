// files.ts: assembles the generated files (kernels.h, ops_cpu.cpp) from the per-op emitters.
import { CPU_STORAGE } from '../ir/dtype.js';
import { intrinsicsSource } from '../ir/intrinsics.js';
import type { OpDef } from '../ir/op.js';
import { emitCpuOp } from './cpu.js';
import { CPU_MATH } from './cpu_math.js';
import { cudaVariants, GENERATED_BY, kernelArgs, kernelName } from './signature.js';

const HALF_HELPERS = `// 16-bit float conversions on the CPU (round to nearest even; NaN stays NaN).
static inline float mae_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline uint16_t mae_f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
static inline float mae_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
  if (exp == 0) {
    if (man == 0) u = sign;
    else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((man & 0x400u) == 0) { man <<= 1; --exp; }
      u = sign | (exp << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) u = sign | 0x7f800000u | (man << 13);
  else u = sign | ((exp + 127 - 15) << 23) | (man << 13);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline uint16_t mae_f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to inf
  if (a < 0x38800000u) {  // subnormal or zero in f16
    if (a < 0x33000000u) return sign;  // below half the smallest subnormal
    const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    const int shift = 126 - (int)e;  // 14 + (113 - e)
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return (uint16_t)(sign | r);
  }
  uint32_t r = a - 0x38000000u;  // rebias 127 -> 15
  r += 0xfffu + ((r >> 13) & 1u);
  return (uint16_t)(sign | (r >> 13));
}`;

export function emitKernelsHeader(ops: readonly OpDef[]): string {
  const out = [
    `// ${GENERATED_BY('kernel declarations')}`,
    '// CPU kernels and CUDA launchers of every op variant: outputs, inputs, params, sizes (llm.c order).',
    '#pragma once',
    '#include <cmath>',
    '#include <cstdint>',
    '#include <cstring>',
    '#include "mae_cuda.h"',
    '',
    '// CPU kernels exist twice on x86-64: ops_cpu.cpp is compiled for the baseline (_default) and',
    '// with AVX2+FMA (_avx2); MAE_CPU_CALL picks one at run time (mae_cpu_isa()).',
    '#define MAE_CAT_(a, b) a##b',
    '#define MAE_CAT(a, b) MAE_CAT_(a, b)',
    '#ifdef MAE_CPU_ISA_SUFFIX',
    '#define MAE_CPU_FN(name) MAE_CAT(name, MAE_CPU_ISA_SUFFIX)',
    '#endif',
    '#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA',
    'extern "C" int mae_cpu_use_avx2(void);',
    '#define MAE_CPU_CALL(name) (mae_cpu_use_avx2() ? name##_avx2 : name##_default)',
    '#else',
    '#define MAE_CPU_CALL(name) name##_default',
    '#endif',
    '',
    HALF_HELPERS,
    '',
    CPU_MATH,
    '',
    intrinsicsSource(),
    '',
  ];
  for (const op of ops) {
    for (const v of op.variants) {
      const args = kernelArgs(op, v, (d) => CPU_STORAGE[d], 'double');
      for (const isa of ['default', 'avx2'])
        out.push(`void ${kernelName(op, 'cpu', v)}_${isa}(${args.map((a) => a.decl).join(', ')});`);
    }
    out.push('#ifdef MAE_WITH_CUDA');
    for (const v of cudaVariants(op)) {
      const args = kernelArgs(op, v, (d) => CPU_STORAGE[d], 'double');
      out.push(
        `mae_status ${kernelName(op, 'cuda', v)}(${[...args.map((a) => a.decl), 'int device', 'void* stream'].join(', ')});`,
      );
    }
    out.push('#endif');
  }
  return `${out.join('\n')}\n`;
}

export function emitCpuFile(ops: readonly OpDef[]): string {
  const out = [
    `// ${GENERATED_BY('CPU kernels')}`,
    '// Every op lowered to C++ loops: OpenMP over the outer loops, simd reductions, blocked GEMMs.',
    '#include <algorithm>',
    '#include <cmath>',
    '#include <vector>',
    '#include "kernels.h"',
    '',
  ];
  for (const op of ops) {
    out.push(`// ---- ${op.name}: ${op.doc}`);
    for (const v of op.variants) out.push(emitCpuOp(op, v), '');
  }
  return out.join('\n');
}
