// commands/check-step.ts: `mae-cuda check-step`: the whole training step as the GPU check runs it.
// --compare DEV trains the same preset, weights, images and noise for --steps steps on --device
// and on DEV and compares the loss curves (exit 1 when they differ by more than --tol relative);
// --time times the step for each --batch (ms, images/s, peak memory). Writes --json FILE.
import { writeFileSync } from 'node:fs';
import {
  compareCurves,
  lossCurve,
  PRECISIONS,
  type PrecisionSetting,
  type PresetName,
  preset,
  presetNames,
  resolvePrecision,
  type StepTiming,
  timeSteps,
} from '@mae-cuda/mae';
import { devices } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';

export const options = z.strictObject({
  model: z.enum(presetNames as [PresetName, ...PresetName[]]).default('mae_tiny_28'),
  device: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "must be 'cpu', 'cuda' or 'cuda:N'" })
    .default('cpu'),
  batch: z
    .string()
    .regex(/^\d+(,\d+)*$/, { message: 'give batch sizes like 64 or 64,256' })
    .default('16')
    .describe('batch size(s), comma-separated'),
  steps: z.coerce.number().int().positive().default(20),
  compare: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/)
    .optional()
    .describe('the other device'),
  tol: z.coerce.number().positive().default(0.02),
  time: z.boolean().default(false),
  graph: z.enum(['true', 'false']).default('true').describe('capture a CUDA graph'),
  precision: z.enum(PRECISIONS).default('auto').describe('precision plan on --device (auto: bf16 on CUDA)'),
  comparePrecision: z.enum(PRECISIONS).default('f32').describe('precision plan on the --compare device'),
  json: z.string().optional().describe('write the results to this file'),
});

const available = (d: string) => {
  const spec = d === 'cuda' ? 'cuda:0' : d;
  return devices().some((x) => x.spec === spec);
};

export const checkStepCommand = defineCommand({
  name: 'check-step',
  summary: 'run, compare across devices and time the whole training step (the GPU check uses it)',
  usage:
    'mae-cuda check-step [--model mae_tiny_28] [--device cuda] [--batch 16[,64]] [--steps 20] [--precision auto|f32|bf16]\n    [--compare cpu [--compare-precision f32] [--tol 0.02]] [--time] [--graph false] [--json out.json]',
  options,
  async run(o) {
    for (const d of [o.device, o.compare].filter((x): x is string => x !== undefined))
      if (!available(d)) {
        console.error(`mae-cuda check-step: device ${d} is not available here (see mae-cuda info)`);
        return 2;
      }
    const model = preset(o.model);
    const batches = o.batch.split(',').map(Number);
    const graph = o.graph === 'true';
    const device = o.device as 'cpu';
    const report: Record<string, unknown> = { model: o.model, device: o.device, steps: o.steps, graph };
    let failed = false;
    if (o.compare) {
      const run = (d: string, precision: PrecisionSetting) =>
        lossCurve({ model, device: d as 'cpu', batch: batches[0]!, steps: o.steps, graph, precision });
      const cmp = compareCurves(await run(o.device, o.precision), await run(o.compare, o.comparePrecision));
      failed = !(cmp.maxRel <= o.tol);
      report.compare = { against: o.compare, batch: batches[0], ...cmp, tol: o.tol, pass: !failed };
      console.log(
        `loss curves ${o.device} (${resolvePrecision(o.precision, device)}) vs ${o.compare} (${resolvePrecision(o.comparePrecision, o.compare as 'cpu')}) over ${o.steps} steps: max relative difference ` +
          `${cmp.maxRel.toExponential(2)} at step ${cmp.at + 1} (first ${cmp.a[0]?.toFixed(5)} vs ${cmp.b[0]?.toFixed(5)}, ` +
          `last ${cmp.a.at(-1)?.toFixed(5)} vs ${cmp.b.at(-1)?.toFixed(5)}): ${failed ? 'FAIL' : 'ok'} (tol ${o.tol})`,
      );
    }
    if (o.time) {
      const timings: StepTiming[] = [];
      for (const batch of batches) {
        const t = await timeSteps({ model, device, batch, steps: o.steps, graph, precision: o.precision });
        timings.push(t);
        console.log(
          `${o.model} batch ${batch} on ${o.device} (${t.precision}${graph && o.device !== 'cpu' ? ', CUDA graph' : ''}): ${t.msPerStep.toFixed(2)} ms/step, ` +
            `${t.imagesPerSec.toFixed(1)} images/s, peak ${(t.peakBytes / 2 ** 30).toFixed(2)} GiB, ${t.graphNodes} graph nodes`,
        );
      }
      report.timings = timings;
    }
    if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    return failed ? 1 : 0;
  },
});
