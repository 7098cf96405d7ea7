// templates.ts: the registry of hand-written schedule templates (ScheduleTemplate in ir/op.ts).
// An op naming a template gets its CPU kernel body and its CUDA kernels and launcher body from
// here instead of from the generic lowering; the function signatures around them (outputs, then
// inputs, params, sizes), the C ABI, Node-API and TypeScript layers are the same as every op's.
import type { DType } from '../ir/dtype.js';
import { type OpDef, resolveDType, type Variant } from '../ir/op.js';
import { cpuFlashBackward, cpuFlashForward } from './cpu_flash.js';
import { CUDA_FLASH_SHARED, cudaFlashBackward, cudaFlashForward } from './cuda_flash.js';
import type { CppRenderer, CudaRenderer } from './render.js';

export interface TemplateCtx<R extends CppRenderer | CudaRenderer> {
  readonly op: OpDef;
  readonly variant: Variant;
  readonly r: R;
  /** dtype of a tensor of the op under the variant */
  dtype(tensor: string): DType;
}

/** Lines of the CPU kernel body (after the params' compute-type copies `<name>_c`). */
export type CpuTemplate = (ctx: TemplateCtx<CppRenderer>) => string[];

export interface CudaTemplateOut {
  /** the variant's kernels */
  readonly kernels: string;
  /** launcher body lines; the launcher has `OP`, `_st`, `device`, `<tensor>_k`, `<param>_k` and the sizes */
  readonly launch: readonly string[];
}
export interface CudaTemplate {
  /** device code every variant uses, emitted once per file before the first op naming it */
  readonly shared?: { readonly key: string; readonly text: string };
  emit(ctx: TemplateCtx<CudaRenderer>, prefix: string): CudaTemplateOut;
}

export const CPU_TEMPLATES: Readonly<Record<string, CpuTemplate>> = {
  flash_forward: cpuFlashForward,
  flash_backward: cpuFlashBackward,
};

export const CUDA_TEMPLATES: Readonly<Record<string, CudaTemplate>> = {
  flash_forward: { shared: CUDA_FLASH_SHARED, emit: cudaFlashForward },
  flash_backward: { shared: CUDA_FLASH_SHARED, emit: cudaFlashBackward },
};

export function templateCtx<R extends CppRenderer | CudaRenderer>(
  op: OpDef,
  variant: Variant,
  r: R,
): TemplateCtx<R> {
  const tensors = [...op.outputs, ...op.inputs];
  const dtype = (name: string): DType => {
    const t = tensors.find((x) => x.name === name);
    if (!t) throw new TypeError(`${op.name}: the template uses an unknown tensor ${name}`);
    return resolveDType(t.dtype, variant);
  };
  return { op, variant, r, dtype };
}

export function cpuTemplate(op: OpDef): CpuTemplate {
  const t = op.template && CPU_TEMPLATES[op.template.cpu];
  if (!t) throw new TypeError(`${op.name}: unknown CPU schedule template ${op.template?.cpu}`);
  return t;
}

export function cudaTemplate(op: OpDef): CudaTemplate {
  const t = op.template && CUDA_TEMPLATES[op.template.cuda];
  if (!t) throw new TypeError(`${op.name}: unknown CUDA schedule template ${op.template?.cuda}`);
  return t;
}
