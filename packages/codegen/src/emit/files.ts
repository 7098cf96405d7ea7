// files.ts: assembles the generated files (kernels.h, ops_cpu.cpp) from the per-op emitters. The
// hand-written C++ they include lives in packages/native/src/cpu (half.h: bf16/f16 conversions;
// cpu_math.h: vectorisable exp and erf; cpu_flash.h: the attention templates; cpu_gemm.h: the GEMM
// micro-kernel and tile sizes).
import { CPU_STORAGE } from '../ir/dtype.js';
import { intrinsicsSource } from '../ir/intrinsics.js';
import type { OpDef } from '../ir/op.js';
import { emitCpuOp } from './cpu.js';
import { cudaVariants, GENERATED_BY, kernelArgs, kernelName } from './signature.js';

/** The builds of the CPU kernels on x86-64, from the baseline up (runtime/cpu_isa.cpp's levels). */
export const CPU_ISAS = ['default', 'avx2', 'avx512'] as const;

export function emitKernelsHeader(ops: readonly OpDef[]): string {
  const out = [
    `// ${GENERATED_BY('kernel declarations')}`,
    '// CPU kernels and CUDA launchers of every op variant: outputs, inputs, params, sizes (llm.c order).',
    '#pragma once',
    '#include <cmath>',
    '#include <cstdint>',
    '#include <cstring>',
    '#include "half.h"',
    '#include "mae_cuda.h"',
    '',
    '// CPU kernels exist three times on x86-64: ops_cpu.cpp is compiled for the baseline (_default),',
    '// with AVX2+FMA (_avx2) and for AVX-512 (_avx512); MAE_CPU_CALL picks one at run time (mae_cpu_isa()).',
    '#define MAE_CAT_(a, b) a##b',
    '#define MAE_CAT(a, b) MAE_CAT_(a, b)',
    '#ifdef MAE_CPU_ISA_SUFFIX',
    '#define MAE_CPU_FN(name) MAE_CAT(name, MAE_CPU_ISA_SUFFIX)',
    '#endif',
    '#if defined(MAE_CPU_MULTI_ISA) && MAE_CPU_MULTI_ISA',
    'extern "C" int mae_cpu_level(void);',
    '#define MAE_CPU_CALL(name) \\',
    '  (mae_cpu_level() == 2 ? name##_avx512 : mae_cpu_level() == 1 ? name##_avx2 : name##_default)',
    '#else',
    '#define MAE_CPU_CALL(name) name##_default',
    '#endif',
    '',
    intrinsicsSource(),
    '',
  ];
  for (const op of ops) {
    for (const v of op.variants) {
      const args = kernelArgs(op, v, (d) => CPU_STORAGE[d], 'double');
      for (const isa of CPU_ISAS)
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
    '// Every op lowered to C++ loops: OpenMP over the outer loops, simd reductions, packed GEMMs.',
    '#include <algorithm>',
    '#include <cmath>',
    '#include <memory>',
    '#include <vector>',
    '#include "cpu_flash.h"',
    '#include "cpu_gemm.h"',
    '#include "cpu_math.h"',
    '#include "kernels.h"',
    '',
  ];
  for (const op of ops) {
    out.push(`// ---- ${op.name}: ${op.doc}`);
    for (const v of op.variants) out.push(emitCpuOp(op, v), '');
  }
  return out.join('\n');
}
