// cpu_flash.ts: the CPU kernels of attention_forward and attention_backward (ops/flash.ts) as calls
// of the hand-written templates in packages/native/src/cpu/cpu_flash.h. What varies per op and
// variant is emitted here: the storage formats and the compute type (template arguments), the
// arguments (by name, in the template's order), and the tensors' strides, derived from their
// declared shapes (contiguousStrides) into a mae_flash_layout: a layout other than today's
// [N, T, 3, H, E] / [N, T, H, E] / [N, H, T] changes the strides passed, not the template.
import type { Dim } from '../ir/tensor.js';
import type { CppRenderer } from './render.js';
import { contiguousStrides, opTensor } from './signature.js';
import type { TemplateCtx } from './templates.js';

type Ctx = TemplateCtx<CppRenderer>;

/** The templates' sizes, in their parameter order: batch, tokens, heads, head size. */
const SIZES = ['N', 'T', 'H', 'E'] as const;

/** The stride of dimension `dim` of the op's `tensor` (which must have it exactly once). */
function strideOf(ctx: Ctx, tensor: string, dim: Dim): string {
  const { dims } = opTensor(ctx.op, tensor);
  const at = dims.indexOf(dim);
  if (at < 0 || dims.lastIndexOf(dim) !== at)
    throw new TypeError(`${ctx.op.name}: the flash template needs ${tensor} to have one dimension ${dim}`);
  return contiguousStrides(ctx.op, tensor, (d) => ctx.r.dim(d))[at]!;
}

/**
 * Requires `tensor` to have exactly the dimensions `strided` and `last`, in any order but with
 * `last` last (the templates' inner loops run along it with unit stride).
 */
function dimsOf(ctx: Ctx, tensor: string, strided: readonly Dim[], last: Dim): void {
  const { dims } = opTensor(ctx.op, tensor);
  const sorted = (xs: readonly Dim[]) => JSON.stringify(xs.map(String).sort());
  if (dims[dims.length - 1] !== last || sorted(dims) !== sorted([...strided, last]))
    throw new TypeError(
      `${ctx.op.name}: the flash template needs ${tensor} over ${[...strided, last].join(', ')} with ${last} last`,
    );
}

/** Requires `a` and `b` to have the same declared shape (one layout serves both). */
function sameShape(ctx: Ctx, a: string, b: string): void {
  const [da, db] = [opTensor(ctx.op, a).dims, opTensor(ctx.op, b).dims];
  if (da.length !== db.length || da.some((d, i) => d !== db[i]))
    throw new TypeError(`${ctx.op.name}: the flash template lays out ${a} as ${b}; their shapes differ`);
}

/** Requires `tensors` to be stored as qkv (the template's one storage format F for all but lse). */
function sameFormat(ctx: Ctx, tensors: readonly string[]): void {
  for (const t of tensors)
    if (ctx.dtype(t) !== ctx.dtype('qkv'))
      throw new TypeError(`${ctx.op.name}: the flash template stores ${t} as qkv`);
}

/**
 * Requires the op's signature to be the template's: these outputs and inputs, the param scale and
 * the sizes N, T, H, E (the call passes them by name, in the template's order, whatever the op's).
 */
function signature(ctx: Ctx, outputs: readonly string[], inputs: readonly string[]): void {
  const { op } = ctx;
  const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name);
  const set = (xs: readonly string[]) => JSON.stringify([...xs].sort());
  const want = [outputs, inputs, ['scale'], SIZES].map(set);
  const got = [names(op.outputs), names(op.inputs), names(op.params), op.sizes].map(set);
  if (want.some((w, i) => w !== got[i]))
    throw new TypeError(
      `${op.name}: the flash template takes (outputs, inputs, params, sizes) ${want.join(' ')}, not ${got.join(' ')}`,
    );
}

/**
 * The fields of mae_flash_layout (cpu_flash.h): per tensor, the field of each strided dimension
 * (`<tensor>_<field>`) and the dimension that must come last, with unit stride.
 */
const LAYOUT: Record<string, { readonly strided: Record<string, Dim>; readonly last: Dim }> = {
  qkv: { strided: { n: 'N', t: 'T', part: 3, h: 'H' }, last: 'E' },
  out: { strided: { n: 'N', t: 'T', h: 'H' }, last: 'E' },
  lse: { strided: { n: 'N', h: 'H' }, last: 'T' },
};

/** The mae_flash_layout `_ly` of the op: strides of qkv, out and lse from their declared shapes. */
function layout(ctx: Ctx): string[] {
  const lines = ['  mae_flash_layout _ly;  // element strides from the declared shapes'];
  for (const [tensor, { strided, last }] of Object.entries(LAYOUT)) {
    dimsOf(ctx, tensor, Object.values(strided), last);
    const fields = Object.entries(strided).map(
      ([f, d]) => `_ly.${tensor}_${f} = ${strideOf(ctx, tensor, d)};`,
    );
    lines.push(`  ${fields.join(' ')}`);
  }
  return lines;
}

/** `fn<F, L, C>(<tensors>, scale_c, N, T, H, E, _ly);`: the arguments by name in the template's order. */
function call(ctx: Ctx, fn: string, tensors: readonly string[]): string {
  const { r } = ctx;
  const targs = [r.format(ctx.dtype('qkv')), r.format(ctx.dtype('lse')), r.ctype].join(', ');
  return `  ${fn}<${targs}>(${[...tensors, r.paramRef('scale'), ...SIZES, '_ly'].join(', ')});`;
}

export function cpuFlashForward(ctx: Ctx): string[] {
  signature(ctx, ['out', 'lse'], ['qkv']);
  sameFormat(ctx, ['out']);
  return [
    '  // flash_forward template (cpu_flash.h)',
    ...layout(ctx),
    call(ctx, 'mae_flash_forward_cpu', ['out', 'lse', 'qkv']),
  ];
}

export function cpuFlashBackward(ctx: Ctx): string[] {
  signature(ctx, ['dqkv'], ['dout', 'qkv', 'out', 'lse']);
  sameShape(ctx, 'dqkv', 'qkv');
  sameShape(ctx, 'dout', 'out');
  sameFormat(ctx, ['dqkv', 'dout', 'out']);
  return [
    '  // flash_backward template (cpu_flash.h)',
    ...layout(ctx),
    call(ctx, 'mae_flash_backward_cpu', ['dqkv', 'dout', 'qkv', 'out', 'lse']),
  ];
}
