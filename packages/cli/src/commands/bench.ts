// commands/bench.ts: `mae-cuda bench`: the whole training step of presets at batch sizes on a
// device, timed after a warm-up (median and spread of per-step times), with images/s, model FLOPs
// per image, achieved TFLOP/s, the utilisation of the device's peak (known for H100/H200, measured
// on the CPU (bench/machine.ts), or --peak-tflops), the allocator's peak memory and where the time goes by kernel class (profiled
// eager steps); a table, or --json. --repeat N runs each row N times and reports the run with the
// median images/s and the range. With --pytorch PYTHON it also runs the PyTorch reference
// (bench/pytorch/mae_step.py) on the same device, preset, batch, steps and precision, each of its
// runs right after ours, and prints the ratio of images/s. It warns when the machine is busy before
// it starts. Before any work it refuses numbers
// out of range (naming the flag), a batch whose estimated memory exceeds the device's (bench/fits.ts)
// and a --pytorch that is not a Python with torch (bench/torch.ts).
import { existsSync, writeFileSync } from 'node:fs';
import {
  type BenchResult,
  benchStep,
  type MaeConfig,
  PRECISIONS,
  type PresetName,
  preset,
  presetNames,
} from '@mae-cuda/mae';
import { buildInfo, type DeviceSpec, devices } from '@mae-cuda/native';
import { z } from 'zod';
import { memoryRefusal } from '../bench/fits.js';
import {
  type BenchRow,
  formatBench,
  formatKernels,
  formatRatios,
  medianIndex,
  type TorchRow,
} from '../bench/format.js';
import { busyWarning, describePeak, measureCpuPeak } from '../bench/machine.js';
import { BenchProgress } from '../bench/progress.js';
import { checkPython, DEFAULT_SCRIPT, runTorch, type TorchResult } from '../bench/torch.js';
import { defineCommand } from '../command.js';
import { intListOption, intOption, MAX_BATCH, MAX_STEPS, numberOption } from '../numbers.js';

const list = (what: string) =>
  z.string().regex(/^[\w.]+(@\d+)?(,[\w.]+(@\d+)?)*$/, { message: `give ${what} separated by commas` });

/** The rows to run: each preset of --model with --batch's sizes, or its own (`preset@batch`). */
function rowsOf(model: string, batches: readonly number[]): { name: PresetName; batches: number[] }[] {
  return model.split(',').map((entry) => {
    const [name, own] = entry.split('@') as [PresetName, string | undefined];
    return { name, batches: own === undefined ? [...batches] : [Number(own)] };
  });
}

export const options = z.strictObject({
  model: list('presets').default('mae_tiny_28').describe('preset(s); preset@B runs that one at batch B only'),
  batch: intListOption({ min: 1, max: MAX_BATCH }).default([64]),
  device: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "must be 'cpu', 'cuda' or 'cuda:N'" })
    .default('cpu'),
  steps: intOption({ min: 1, max: MAX_STEPS }).default(20),
  warmup: intOption({ min: 0, max: MAX_STEPS }).default(3),
  repeat: intOption({ min: 1, max: 1000 }).default(1).describe('runs of each row (median and range)'),
  precision: z.enum(PRECISIONS).default('auto'),
  graph: z.boolean().default(true),
  encoderMaskToken: z
    .boolean()
    .default(false)
    .describe('the encoder on all patches with mask tokens (Table 1c; docs/ABLATIONS.md)'),
  profileSteps: intOption({ min: 0, max: 1000 })
    .default(2)
    .describe('eager steps profiled op by op for the kernel-class breakdown (0: none)'),
  peakTflops: numberOption({ positive: true, max: 1e6 })
    .optional()
    .describe("the device's peak TFLOP/s for the precision"),
  json: z.string().optional(),
  markdown: z.boolean().default(false).describe('print the tables as Markdown (for docs/)'),
  pytorch: z
    .string()
    .optional()
    .describe('also run the PyTorch reference with this python and print the ratio'),
  pytorchScript: z.string().optional().describe('where bench/pytorch/mae_step.py is'),
  pytorchCompile: z
    .enum(['false', 'true', 'both'])
    .default('false')
    .describe('PyTorch eager, torch.compile, or both'),
});

/** Dense bf16 tensor-core peaks of the cards we are lent (TFLOP/s, SXM). */
const BF16_PEAK: [RegExp, number][] = [
  [/H100|H200/, 989],
  [/A100/, 312],
];

function knownPeak(device: string, precision: string): number | undefined {
  if (device === 'cpu' || precision !== 'bf16') return undefined;
  const index = device === 'cuda' ? 0 : Number(device.split(':')[1]);
  const name = devices().find((d) => d.type === 'cuda' && d.index === index)?.name ?? '';
  return BF16_PEAK.find(([re]) => re.test(name))?.[1];
}

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'time the whole training step (median, images/s, FLOP/s, MFU, memory, kernel classes)',
  usage:
    'mae-cuda bench [--model mae_tiny_28[,mae_tiny_32][,preset@batch]] [--batch 64[,256]] [--device cpu|cuda[:N]] [--steps 20]\n    [--warmup 3] [--repeat 1] [--precision auto|f32|bf16] [--graph=false] [--profile-steps 2] [--peak-tflops N]\n    [--encoder-mask-token] [--json out.json] [--markdown] [--pytorch python3 [--pytorch-compile false|true|both] [--pytorch-script bench/pytorch/mae_step.py]]',
  options,
  async run(o) {
    const refused = refusal(o);
    if (refused) {
      console.error(`mae-cuda bench: ${refused}`);
      return 2;
    }
    const rowSpecs = rowsOf(o.model, o.batch);
    const warning = await busyWarning();
    if (warning) console.error(`mae-cuda bench: ${warning}`);
    // on the CPU the MFU is against the peak measured now (unless --peak-tflops)
    const cpuPeak = o.device === 'cpu' ? measureCpuPeak() : undefined;
    const script = o.pytorchScript ?? DEFAULT_SCRIPT;
    const modes = o.pytorchCompile === 'both' ? [false, true] : [o.pytorchCompile === 'true'];
    const python = o.pytorch;
    const torchRun = { script, steps: o.steps, warmup: o.warmup, threads: buildInfo().cpuThreads };
    const rows: BenchRow[] = [];
    const runs = rowSpecs.reduce((n, r) => n + r.batches.length, 0);
    const progress = new BenchProgress(
      process.stderr,
      runs * o.repeat * (1 + (o.pytorch ? modes.length : 0)),
    );
    for (const { name, batches } of rowSpecs)
      for (const batch of batches) {
        const ours: BenchResult[] = [];
        const torch: TorchResult[][] = modes.map(() => []);
        for (let rep = 0; rep < o.repeat; rep++) {
          const what = `${name} batch ${batch}${o.repeat > 1 ? `, run ${rep + 1}/${o.repeat}` : ''}`;
          progress.start(`mae-cuda ${what}`);
          const r = await benchStep({
            name: rowName(name, o.encoderMaskToken),
            model: rowModel(name, o.encoderMaskToken),
            device: o.device as DeviceSpec,
            batch,
            steps: o.steps,
            warmup: o.warmup,
            precision: o.precision,
            graph: o.graph,
            // the breakdown once per row, after its last timed run
            profileSteps: rep === o.repeat - 1 ? o.profileSteps : 0,
            ...(o.peakTflops ? { peakTflops: o.peakTflops } : {}),
          });
          progress.finish();
          const peak = o.peakTflops ?? (cpuPeak ? cpuPeak.gflops / 1000 : knownPeak(o.device, r.precision));
          ours.push(peak && r.mfu === undefined ? { ...r, mfu: r.achievedTflops / peak } : r);
          if (!python) continue;
          for (const [i, compile] of modes.entries()) {
            progress.start(`PyTorch${compile ? ' (torch.compile)' : ''} ${what}`);
            try {
              torch[i]!.push(runTorch({ ...torchRun, python, compile }, r));
              progress.finish();
            } catch (e) {
              progress.end();
              console.error(`mae-cuda bench: ${(e as Error).message}`);
              return 1;
            }
          }
        }
        rows.push(combine(ours, python ? torch : [], modes));
      }
    progress.end();
    const md = o.markdown;
    if (cpuPeak && !o.peakTflops) console.log(`${describePeak(cpuPeak)}: the MFU column's denominator\n`);
    console.log(formatBench(rows, md));
    for (const r of rows) if (r.ours.kernels) console.log(`\n${formatKernels(r.ours, md)}`);
    if (o.pytorch) console.log(`\n${formatRatios(rows, md)}`);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(rows.map(toJson), null, 2)}\n`);
    return 0;
  },
});

/** A row's model: the preset, with the encoder on all patches under --encoder-mask-token. */
function rowModel(name: PresetName, encoderMaskToken: boolean): MaeConfig {
  return encoderMaskToken ? { ...preset(name), encoder_mask_token: true } : preset(name);
}

const rowName = (name: string, encoderMaskToken: boolean) =>
  encoderMaskToken ? `${name}+encoder-mask-token` : name;

/** Why the benchmark cannot start (naming the flag), checked before any work; undefined if it can. */
function refusal(o: z.infer<typeof options>): string | undefined {
  const rows = rowsOf(o.model, o.batch);
  for (const { name, batches } of rows) {
    if (!presetNames.includes(name)) return `--model: unknown preset ${name} (${presetNames.join(', ')})`;
    for (const b of batches)
      if (!(b >= 1 && b <= MAX_BATCH)) return `--model: ${name}@${b}: the batch must be 1 to ${MAX_BATCH}`;
  }
  const spec = o.device === 'cuda' ? 'cuda:0' : o.device;
  if (!devices().some((d) => d.spec === spec))
    return `--device: ${o.device} is not available here (see mae-cuda info)`;
  for (const { name, batches } of rows) {
    const model = rowModel(name, o.encoderMaskToken);
    const steps = o.steps + o.warmup;
    const device = o.device as DeviceSpec;
    const r = memoryRefusal({
      flag: '--batch',
      name,
      model,
      batches,
      device,
      precision: o.precision,
      steps,
    });
    if (r) return r;
  }
  if (!o.pytorch) return undefined;
  if (o.encoderMaskToken)
    return '--encoder-mask-token: the PyTorch reference (--pytorch) runs the official model only';
  const script = o.pytorchScript ?? DEFAULT_SCRIPT;
  if (!existsSync(script)) return `--pytorch-script: ${script} does not exist`;
  return checkPython(o.pytorch);
}

/** One row from its runs: the median runs, the ranges and the ratios of back-to-back runs. */
function combine(ours: BenchResult[], torch: TorchResult[][], modes: boolean[]): BenchRow {
  const oursRuns = ours.map((r) => r.imagesPerSec);
  // the breakdown was taken after the last run; it belongs to the row
  const kernels = ours.at(-1)?.kernels;
  const median = ours[medianIndex(oursRuns)]!;
  const pytorch: TorchRow[] = torch.map((runs, i) => {
    const ips = runs.map((t) => t.images_per_s);
    const m = runs[medianIndex(ips)]!;
    const paired = ips.map((x, j) => oursRuns[j]! / x);
    return {
      mode: modes[i] ? 'compile' : 'eager',
      median: m,
      runs: ips,
      ratio: median.imagesPerSec / m.images_per_s,
      ratioRange: [Math.min(...paired), Math.max(...paired)],
    };
  });
  return { ours: kernels ? { ...median, kernels } : median, oursRuns, pytorch };
}

/** The JSON of a row: our median run (with every run's images/s) and PyTorch's, when run. */
function toJson(r: BenchRow) {
  return { ...r.ours, runs: r.oursRuns, ...(r.pytorch.length ? { pytorch: r.pytorch } : {}) };
}
