// cuda_flash.ts: the CUDA schedule templates of attention_forward and attention_backward
// (ops/flash.ts). The device code is hand-written in packages/native/src/device/flash*.cuh
// (tensor cores for head sizes 32, 64, 80 and 128, instantiated here; a SIMT fallback for any
// other); this emits per variant the kernel wrappers (the op's own parameters, then the layout of
// its tensors as the op declares them), the shared-memory opt-in and the launches by head size.

import { checkFlashOp, type FlashPass, flashArgs, flashLayout } from './flash_layout.js';
import type { CudaRenderer } from './render.js';
import { cudaKernelParams, cudaLaunchArgs } from './signature.js';
import type { CudaTemplateOut, TemplateCtx } from './templates.js';

/** Head sizes with tensor-core instantiations. */
export const FLASH_HEAD_SIZES = [32, 64, 80, 128] as const;
const THREADS = 128;

/**
 * The tile shapes by head size E: wm, 16-row tiles per warp (two for narrow heads, where each K or
 * V fragment then feeds two MMAs: half the shared-memory reads per MMA; one where the accumulators
 * would not fit in registers), so 64 wm rows (queries, or keys for dK/dV) per CTA; the forward's key
 * tile `bn`; the dK/dV kernel's query tile `bq` (fewer rows for wide heads or two tiles a warp,
 * keeping the accumulators in registers); the dQ kernel's key tile `bk`.
 */
export function flashTiles(E: number) {
  const wm = E <= 32 ? 2 : 1;
  return { wm, rows: 64 * wm, bn: 64, bq: E > 80 || wm === 2 ? 32 : 64, bk: wm === 2 ? 32 : 64 };
}
/**
 * The dQ kernel's blocks an SM asked of ptxas: 3 at head size 32 (the decoders'), whose 128-row
 * tiles fit 168 registers without spilling, so that three CTAs share an SM (left to ptxas, it took
 * 170: two); 1 (no bound) otherwise.
 */
const dqMinBlocks = (E: number) => (E === 32 ? 3 : 1);
const ld = (E: number) => E + 8;
/** Dynamic shared memory by kernel: the held tile(s), and two buffers of the walked tiles (K and V, or Q and dO). */
export const flashSmem = {
  forward: (E: number) => (flashTiles(E).rows + 4 * flashTiles(E).bn) * ld(E) * 2,
  dkdv: (E: number) => {
    const { rows, bq } = flashTiles(E);
    return (2 * rows + 4 * bq) * ld(E) * 2 + 2 * bq * 4;
  },
  dq: (E: number) => (2 * flashTiles(E).rows + 4 * flashTiles(E).bk) * ld(E) * 2,
};

export const CUDA_FLASH_SHARED = {
  key: 'flash',
  text: '// ---- flash attention device code (attention_forward, attention_backward)\n#include "flash.cuh"\n',
};

/**
 * One kernel wrapper (a concrete name for ptxas and profilers) around a device template, with the
 * op's kernel parameters and the layout. minBlocks 1 unless given, as the GEMMs: with the default
 * bounds ptxas spilled a few bytes even in the 96-register kernels.
 */
function wrapper(
  ctx: TemplateCtx<CudaRenderer>,
  pass: FlashPass,
  name: string,
  template: string,
  minBlocks = 1,
): string {
  const { op, variant, r } = ctx;
  const params = cudaKernelParams(op, variant, (d) => r.storage(d), r.ctype);
  return [
    `__global__ void __launch_bounds__(${THREADS}, ${minBlocks}) ${name}(${params}, const mae_flash_layout _ly) {`,
    `  ${template}(${[...flashArgs(pass), '_ly'].join(', ')});`,
    '}',
  ].join('\n');
}

/** The launch of a kernel with its dynamic shared memory, grid and arguments. */
function launch(ctx: TemplateCtx<CudaRenderer>, name: string, grid: string, smem: string): string[] {
  const args = `${cudaLaunchArgs(ctx.op, ctx.variant)}, _ly`;
  return [
    `      if (mae_fa_smem(${name}, (int)(${smem}), OP)) return MAE_ERROR;`,
    `      MAE_LAUNCH(${name}, ${grid}, ${THREADS}, (size_t)(${smem}), _st, ${args});`,
  ];
}

/** The launcher body: a compile-time head size's kernels, or the SIMT ones for any other. */
function dispatch(
  ctx: TemplateCtx<CudaRenderer>,
  cases: { E: number; body: string[] }[],
  fallback: string[],
): string[] {
  return [
    '  if (N > 0 && T > 0 && H > 0) {',
    '    const int64_t _zmax = mae_max_grid_z(device);',
    '    const unsigned _gz = (unsigned)(N < _zmax ? N : _zmax);',
    '    const dim3 _rows((unsigned)T, (unsigned)H, _gz);',
    ...flashLayout(ctx, '_ly', '    '),
    '    switch (E) {',
    ...cases.flatMap((c) => [
      `    case ${c.E}: {`,
      `      const dim3 _tiles((unsigned)((T + ${flashTiles(c.E).rows - 1}) / ${flashTiles(c.E).rows}), (unsigned)H, _gz);`,
      ...c.body,
      '      break;',
      '    }',
    ]),
    '    default: {',
    ...fallback,
    '    }',
    '    }',
    '    if (mae_launched(OP)) return MAE_ERROR;',
    '  }',
  ];
}

export function cudaFlashForward(ctx: TemplateCtx<CudaRenderer>, prefix: string): CudaTemplateOut {
  checkFlashOp(ctx, 'forward');
  const TS = ctx.r.storage(ctx.dtype('out'));
  const kernels: string[] = [];
  const cases = FLASH_HEAD_SIZES.map((E) => {
    const name = `${prefix}_e${E}`;
    const { wm, bn } = flashTiles(E);
    kernels.push(wrapper(ctx, 'forward', name, `mae_fa_forward<${TS}, ${E}, ${bn}, ${wm}>`));
    return { E, body: launch(ctx, name, '_tiles', String(flashSmem.forward(E))) };
  });
  const simt = `${prefix}_simt`;
  kernels.push(wrapper(ctx, 'forward', simt, `mae_fa_forward_simt<${TS}>`));
  const fallback = launch(ctx, simt, '_rows', 'mae_fa_simt_forward_bytes(E)');
  return { kernels: kernels.join('\n'), launch: dispatch(ctx, cases, fallback) };
}

export function cudaFlashBackward(ctx: TemplateCtx<CudaRenderer>, prefix: string): CudaTemplateOut {
  checkFlashOp(ctx, 'backward');
  const TS = ctx.r.storage(ctx.dtype('dqkv'));
  const kernels: string[] = [];
  const cases = FLASH_HEAD_SIZES.map((E) => {
    const [kv, q] = [`${prefix}_dkdv_e${E}`, `${prefix}_dq_e${E}`];
    const { wm, bq, bk } = flashTiles(E);
    kernels.push(wrapper(ctx, 'backward', kv, `mae_fa_dkdv<${TS}, ${E}, ${bq}, ${wm}>`));
    kernels.push(wrapper(ctx, 'backward', q, `mae_fa_dq<${TS}, ${E}, ${bk}, ${wm}>`, dqMinBlocks(E)));
    return {
      E,
      body: [
        ...launch(ctx, kv, '_tiles', String(flashSmem.dkdv(E))),
        ...launch(ctx, q, '_tiles', String(flashSmem.dq(E))),
      ],
    };
  });
  const [kv, q] = [`${prefix}_dkdv_simt`, `${prefix}_dq_simt`];
  kernels.push(wrapper(ctx, 'backward', kv, `mae_fa_dkdv_simt<${TS}>`));
  kernels.push(wrapper(ctx, 'backward', q, `mae_fa_dq_simt<${TS}>`));
  const fallback = [
    ...launch(ctx, kv, '_rows', 'mae_fa_simt_dkdv_bytes(E)'),
    ...launch(ctx, q, '_rows', 'mae_fa_simt_dq_bytes(E)'),
  ];
  return { kernels: kernels.join('\n'), launch: dispatch(ctx, cases, fallback) };
}
