// commands/bench_gemm.ts: `mae-cuda bench-gemm [--shapes 12800x768x3072,...] [--reps 3] [--json FILE]
// [--markdown]`: GFLOP/s of the CPU kernels' three products of a linear layer (forward, input
// gradient, weight gradient) at each shape (M tokens x N outputs x K inputs; the defaults are
// ViT-B's MLP and qkv layers at batch 256, 50 kept tokens an image), and their share of the CPU's
// measured peak. Warns first when the machine is busy. Speed is printed, not asserted.
import { writeFileSync } from 'node:fs';
import { benchGemm, type GemmShape, type GemmTiming } from '@mae-cuda/mae';
import { z } from 'zod';
import { table } from '../bench/format.js';
import { busyWarning, describePeak, measureCpuPeak } from '../bench/machine.js';
import { defineCommand } from '../command.js';
import { intOption } from '../numbers.js';

const SHAPE = /^(\d+)x(\d+)x(\d+)$/;
const MAX_ELEMENTS = 2 ** 31;

const shapes = z
  .string()
  .default('12800x3072x768,12800x768x3072,12800x2304x768')
  .transform((v, ctx): GemmShape[] => {
    const out: GemmShape[] = [];
    for (const part of v.split(',')) {
      const m = SHAPE.exec(part);
      const [M, N, K] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
      if (
        !m ||
        M < 1 ||
        N < 1 ||
        K < 1 ||
        M * K > MAX_ELEMENTS ||
        N * K > MAX_ELEMENTS ||
        M * N > MAX_ELEMENTS
      ) {
        ctx.addIssue({
          code: 'custom',
          message: `${part}: give MxNxK, positive sizes, each matrix under 2^31 elements`,
        });
        return z.NEVER;
      }
      out.push({ m: M, n: N, k: K });
    }
    return out;
  });

export const options = z.strictObject({
  shapes: shapes.describe('M tokens x N outputs x K inputs, separated by commas'),
  reps: intOption({ min: 1, max: 1000 }).default(3).describe('timed runs of each product (the best counts)'),
  json: z.string({ message: 'give the file to write: --json FILE' }).optional(),
  markdown: z.boolean().default(false).describe('print the table as Markdown (for docs/)'),
});

const USAGE = 'mae-cuda bench-gemm [--shapes 12800x3072x768[,...]] [--reps 3] [--json FILE] [--markdown]';

export const benchGemmCommand = defineCommand({
  name: 'bench-gemm',
  summary:
    "GFLOP/s of the CPU kernels' GEMMs at a linear layer's shapes, and their share of the measured peak",
  usage: USAGE,
  options,
  async run(o) {
    const warning = await busyWarning();
    if (warning) console.error(`mae-cuda bench-gemm: ${warning}`);
    const peak = measureCpuPeak();
    console.log(describePeak(peak));
    const rows: { shape: GemmShape; timing: GemmTiming }[] = [];
    for (const shape of o.shapes) for (const timing of benchGemm(shape, o.reps)) rows.push({ shape, timing });
    const body = rows.map(({ shape, timing: t }) => [
      `${shape.m}x${shape.n}x${shape.k}`,
      t.product,
      t.op,
      t.ms.toFixed(2),
      t.gflops.toFixed(1),
      `${((100 * t.gflops) / peak.gflops).toFixed(1)}%`,
    ]);
    console.log(table(['MxNxK', 'product', 'op', 'ms', 'GFLOP/s', 'of peak'], body, o.markdown));
    if (o.json) writeFileSync(o.json, `${JSON.stringify({ peak, rows }, null, 2)}\n`);
    return 0;
  },
});
