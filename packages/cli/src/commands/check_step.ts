// commands/check-step.ts: `mae-cuda check-step`: the whole training step as the GPU check runs it.
// --run trains --steps steps on --device and prints the losses (exit 1 when one is not finite);
// --compare DEV trains the same preset, weights, images and noise for --steps steps on --device
// and on DEV and compares the loss curves (exit 1 when they differ by more than --tol relative);
// --time times the step for each --batch (ms, images/s, peak memory). At least one of the three is
// needed (none: a usage message, exit 2). Writes --json FILE.
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
import { type DeviceSpec, devices } from '@mae-cuda/native';
import { z } from 'zod';
import { memoryRefusal } from '../bench/fits.js';
import { defineCommand } from '../command.js';
import { intListOption, intOption, MAX_BATCH, MAX_STEPS, numberOption } from '../numbers.js';

export const options = z.strictObject({
  model: z.enum(presetNames as [PresetName, ...PresetName[]]).default('mae_tiny_28'),
  device: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "must be 'cpu', 'cuda' or 'cuda:N'" })
    .default('cpu'),
  batch: intListOption({ min: 1, max: MAX_BATCH }).default([16]).describe('batch size(s), comma-separated'),
  steps: intOption({ min: 1, max: MAX_STEPS }).default(20),
  compare: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/)
    .optional()
    .describe('the other device'),
  tol: numberOption({ positive: true }).default(0.02),
  run: z.boolean().default(false).describe('train --steps steps and print the losses'),
  time: z.boolean().default(false),
  graph: z.boolean().default(true).describe('capture a CUDA graph'),
  precision: z.enum(PRECISIONS).default('auto').describe('precision plan on --device (auto: bf16 on CUDA)'),
  comparePrecision: z.enum(PRECISIONS).default('f32').describe('precision plan on the --compare device'),
  json: z.string().optional().describe('write the results to this file'),
});

const available = (d: string) => {
  const spec = d === 'cuda' ? 'cuda:0' : d;
  return devices().some((x) => x.spec === spec);
};

type Options = z.infer<typeof options>;
type Report = Record<string, unknown>;

const MODES =
  'give a mode: --run (train and print the losses), --compare DEVICE (loss curves of two devices) and/or --time (time the step)';

/** --run: the losses of --steps steps on --device; false when one is not finite. */
async function runMode(o: Options, report: Report): Promise<boolean> {
  const device = o.device as DeviceSpec;
  const losses = await lossCurve({
    model: preset(o.model),
    device,
    batch: o.batch[0]!,
    steps: o.steps,
    graph: o.graph,
    precision: o.precision,
  });
  const ok = losses.every(Number.isFinite);
  report.run = { batch: o.batch[0], losses, pass: ok };
  console.log(
    `${o.model} batch ${o.batch[0]} on ${o.device} (${resolvePrecision(o.precision, device)}): ${o.steps} steps, ` +
      `loss ${losses[0]?.toFixed(5)} -> ${losses.at(-1)?.toFixed(5)}${ok ? '' : ': FAIL (a loss is not finite)'}`,
  );
  return ok;
}

/** --compare: the loss curves on --device and on --compare; false when they differ past --tol. */
async function compareMode(o: Options, against: string, report: Report): Promise<boolean> {
  const curve = (d: string, precision: PrecisionSetting) =>
    lossCurve({
      model: preset(o.model),
      device: d as DeviceSpec,
      batch: o.batch[0]!,
      steps: o.steps,
      graph: o.graph,
      precision,
    });
  const cmp = compareCurves(await curve(o.device, o.precision), await curve(against, o.comparePrecision));
  const ok = cmp.maxRel <= o.tol;
  report.compare = { against, batch: o.batch[0], ...cmp, tol: o.tol, pass: ok };
  console.log(
    `loss curves ${o.device} (${resolvePrecision(o.precision, o.device as DeviceSpec)}) vs ${against} (${resolvePrecision(o.comparePrecision, against as DeviceSpec)}) over ${o.steps} steps: max relative difference ` +
      `${cmp.maxRel.toExponential(2)} at step ${cmp.at + 1} (first ${cmp.a[0]?.toFixed(5)} vs ${cmp.b[0]?.toFixed(5)}, ` +
      `last ${cmp.a.at(-1)?.toFixed(5)} vs ${cmp.b.at(-1)?.toFixed(5)}): ${ok ? 'ok' : 'FAIL'} (tol ${o.tol})`,
  );
  return ok;
}

/** --time: ms per step, images/s and peak memory for each --batch. */
async function timeMode(o: Options, report: Report): Promise<void> {
  const timings: StepTiming[] = [];
  const device = o.device as DeviceSpec;
  for (const batch of o.batch) {
    const t = await timeSteps({
      model: preset(o.model),
      device,
      batch,
      steps: o.steps,
      graph: o.graph,
      precision: o.precision,
    });
    timings.push(t);
    console.log(
      `${o.model} batch ${batch} on ${o.device} (${t.precision}${o.graph && o.device !== 'cpu' ? ', CUDA graph' : ''}): ${t.msPerStep.toFixed(2)} ms/step, ` +
        `${t.imagesPerSec.toFixed(1)} images/s, peak ${(t.peakBytes / 2 ** 30).toFixed(2)} GiB, ${t.graphNodes} graph nodes`,
    );
  }
  report.timings = timings;
}

/** Why the run cannot start (a device not here, a batch that does not fit), if so. */
function refusal(o: Options): string | undefined {
  for (const d of [o.device, o.compare].filter((x): x is string => x !== undefined))
    if (!available(d)) return `device ${d} is not available here (see mae-cuda info)`;
  const runs: [string, PrecisionSetting][] = [[o.device, o.precision]];
  if (o.compare) runs.push([o.compare, o.comparePrecision]);
  for (const [d, precision] of runs) {
    const batches = o.time && d === o.device ? o.batch : [o.batch[0]!];
    const r = memoryRefusal({
      flag: '--batch',
      name: o.model,
      model: preset(o.model),
      batches,
      device: d as DeviceSpec,
      precision,
      steps: o.steps + 3,
    });
    if (r) return r;
  }
  return undefined;
}

export const checkStepCommand = defineCommand({
  name: 'check-step',
  summary: 'run, compare across devices and time the whole training step (the GPU check uses it)',
  usage:
    'mae-cuda check-step --run | --compare cpu | --time [--model mae_tiny_28] [--device cuda] [--batch 16[,64]] [--steps 20]\n' +
    '    [--precision auto|f32|bf16] [--compare-precision f32] [--tol 0.02] [--graph=false] [--json out.json]',
  options,
  async run(o) {
    const fail = (m: string) => {
      console.error(`mae-cuda check-step: ${m}`);
      return 2;
    };
    if (!o.run && !o.compare && !o.time) {
      fail(MODES);
      console.error(`usage: ${checkStepCommand.usage}`);
      return 2;
    }
    const refused = refusal(o);
    if (refused) return fail(refused);
    const report: Report = { model: o.model, device: o.device, steps: o.steps, graph: o.graph };
    let ok = true;
    if (o.run) ok = (await runMode(o, report)) && ok;
    if (o.compare) ok = (await compareMode(o, o.compare, report)) && ok;
    if (o.time) await timeMode(o, report);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    return ok ? 0 : 1;
  },
});
