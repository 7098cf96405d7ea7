// cpu_flash.ts: the CPU kernels of attention_forward and attention_backward (ops/flash.ts) as calls
// of the hand-written templates in packages/native/src/cpu/cpu_flash.h. What varies per op and
// variant is emitted here: the storage formats and the compute type (template arguments), the
// arguments (by name, in the template's order), and the tensors' strides from their declared
// shapes (flash_layout.ts).
import { checkFlashOp, type FlashPass, flashArgs, flashLayout } from './flash_layout.js';
import type { CppRenderer } from './render.js';
import type { TemplateCtx } from './templates.js';

type Ctx = TemplateCtx<CppRenderer>;

/** `fn<F, L, C>(<tensors>, scale_c, N, T, H, E, _ly);`: the arguments by name in the template's order. */
function call(ctx: Ctx, fn: string, pass: FlashPass): string {
  const { r } = ctx;
  const targs = [r.format(ctx.dtype('qkv')), r.format(ctx.dtype('lse')), r.ctype].join(', ');
  const args = flashArgs(pass).map((a) => (a === 'scale' ? r.paramRef('scale') : a));
  return `  ${fn}<${targs}>(${[...args, '_ly'].join(', ')});`;
}

export function cpuFlashForward(ctx: Ctx): string[] {
  checkFlashOp(ctx, 'forward');
  return [
    '  // flash_forward template (cpu_flash.h)',
    ...flashLayout(ctx, '_ly', '  '),
    call(ctx, 'mae_flash_forward_cpu', 'forward'),
  ];
}

export function cpuFlashBackward(ctx: Ctx): string[] {
  checkFlashOp(ctx, 'backward');
  return [
    '  // flash_backward template (cpu_flash.h)',
    ...flashLayout(ctx, '_ly', '  '),
    call(ctx, 'mae_flash_backward_cpu', 'backward'),
  ];
}
