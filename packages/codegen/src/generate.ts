// generate.ts: every generated file, by name, as text (pure: the same ops give the same bytes).
import { emitCapi, emitOpsHeader } from './emit/capi.js';
import { emitCheck } from './emit/check.js';
import { emitCudaFile } from './emit/cuda.js';
import { emitCpuFile, emitKernelsHeader } from './emit/files.js';
import { emitNapi } from './emit/napi.js';
import { emitTs } from './emit/ts.js';
import type { OpDef } from './ir/op.js';
import { ALL_OPS } from './ops/index.js';

export function generateAll(ops: readonly OpDef[] = ALL_OPS): Record<string, string> {
  return {
    'mae_cuda_ops.h': emitOpsHeader(ops),
    'kernels.h': emitKernelsHeader(ops),
    'ops_cpu.cpp': emitCpuFile(ops),
    'ops_capi.cpp': emitCapi(ops),
    'ops_cuda.cu': emitCudaFile(ops),
    'addon_ops.cpp': emitNapi(ops),
    'ops.ts': emitTs(ops),
    'op_check.cpp': emitCheck(ops),
  };
}
