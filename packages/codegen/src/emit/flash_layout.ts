// flash_layout.ts: what the flash-attention templates of both backends (cpu_flash.ts over
// native/src/cpu/cpu_flash.h, cuda_flash.ts over native/src/device/flash_*.cuh) require of an op,
// and the mae_flash_layout (native/src/cpu/flash_layout.h) they take: the strides of qkv, out and
// lse derived from the op's declared shapes (contiguousStrides), matched to the template's
// dimensions by name, so a layout other than today's [N, T, 3, H, E] / [N, T, H, E] / [N, H, T]
// changes the strides passed, not the templates.
import type { Dim } from '../ir/tensor.js';
import type { CppRenderer, CudaRenderer } from './render.js';
import { contiguousStrides, opTensor } from './signature.js';
import type { TemplateCtx } from './templates.js';

type Ctx = TemplateCtx<CppRenderer | CudaRenderer>;

/** The templates' sizes, in their parameter order: batch, tokens, heads, head size. */
export const FLASH_SIZES = ['N', 'T', 'H', 'E'] as const;

/** The templates' tensors, in their parameter order (then scale, then the sizes, then the layout). */
export const FLASH_TENSORS = {
  forward: { outputs: ['out', 'lse'], inputs: ['qkv'] },
  backward: { outputs: ['dqkv'], inputs: ['dout', 'qkv', 'out', 'lse'] },
} as const;
export type FlashPass = keyof typeof FLASH_TENSORS;

/** The template's argument names in its parameter order (tensors, scale, sizes). */
export const flashArgs = (pass: FlashPass): string[] => [
  ...FLASH_TENSORS[pass].outputs,
  ...FLASH_TENSORS[pass].inputs,
  'scale',
  ...FLASH_SIZES,
];

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

/** Requires `tensors` to be stored as qkv (the templates' one storage type for all but lse). */
function sameFormat(ctx: Ctx, tensors: readonly string[]): void {
  for (const t of tensors)
    if (ctx.dtype(t) !== ctx.dtype('qkv'))
      throw new TypeError(`${ctx.op.name}: the flash template stores ${t} as qkv`);
}

/**
 * Requires the op's signature to be the template's: these outputs and inputs, the param scale and
 * the sizes N, T, H, E (in any order: the calls pass them by name, in the template's order), with
 * every tensor but lse stored as qkv, and the gradients shaped as what they differentiate.
 */
export function checkFlashOp(ctx: Ctx, pass: FlashPass): void {
  const { op } = ctx;
  const { outputs, inputs } = FLASH_TENSORS[pass];
  const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name);
  const set = (xs: readonly string[]) => JSON.stringify([...xs].sort());
  const want = [outputs, inputs, ['scale'], FLASH_SIZES].map(set);
  const got = [names(op.outputs), names(op.inputs), names(op.params), op.sizes].map(set);
  if (want.some((w, i) => w !== got[i]))
    throw new TypeError(
      `${op.name}: the flash template takes (outputs, inputs, params, sizes) ${want.join(' ')}, not ${got.join(' ')}`,
    );
  if (pass === 'backward') {
    sameShape(ctx, 'dqkv', 'qkv');
    sameShape(ctx, 'dout', 'out');
  }
  sameFormat(ctx, pass === 'forward' ? ['out'] : ['dqkv', 'dout', 'out']);
}

/**
 * The fields of mae_flash_layout: per tensor, the field of each strided dimension
 * (`<tensor>_<field>`) and the dimension that must come last, with unit stride.
 */
const LAYOUT: Record<string, { readonly strided: Record<string, Dim>; readonly last: Dim }> = {
  qkv: { strided: { n: 'N', t: 'T', part: 3, h: 'H' }, last: 'E' },
  out: { strided: { n: 'N', t: 'T', h: 'H' }, last: 'E' },
  lse: { strided: { n: 'N', h: 'H' }, last: 'T' },
};

/** Statements declaring and filling the op's mae_flash_layout `name` (one line per tensor). */
export function flashLayout(ctx: Ctx, name: string, indent: string): string[] {
  const lines = [`${indent}mae_flash_layout ${name};  // element strides from the declared shapes`];
  for (const [tensor, { strided, last }] of Object.entries(LAYOUT)) {
    dimsOf(ctx, tensor, Object.values(strided), last);
    const fields = Object.entries(strided).map(
      ([f, d]) => `${name}.${tensor}_${f} = ${strideOf(ctx, tensor, d)};`,
    );
    lines.push(`${indent}${fields.join(' ')}`);
  }
  return lines;
}
