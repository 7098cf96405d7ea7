// commands/bench.ts: `mae-cuda bench`: the whole training step of presets at batch sizes on a
// device, timed after a warm-up (median and spread of per-step times), with images/s, model FLOPs
// per image, achieved TFLOP/s, the utilisation of the card's peak (known for H100/H200, or
// --peak-tflops) and the allocator's peak memory; a table, or --json. With --pytorch PYTHON it
// also runs the PyTorch reference (bench/pytorch/mae_step.py) on the same device, preset, batch,
// steps and precision, one after the other, and prints the ratio of images/s.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, benchStep, PRECISIONS, type PresetName, preset, presetNames } from '@mae-cuda/mae';
import { buildInfo, type DeviceSpec, devices } from '@mae-cuda/native';

const cpuThreads = () => buildInfo().cpuThreads;

import { z } from 'zod';
import { defineCommand } from '../command.js';

const list = (what: string) =>
  z.string().regex(/^[\w.]+(,[\w.]+)*$/, { message: `give ${what} separated by commas` });

export const options = z.strictObject({
  model: list('presets').default('mae_tiny_28').describe('preset(s)'),
  batch: z
    .string()
    .regex(/^\d+(,\d+)*$/, { message: 'give batch sizes like 64 or 64,256' })
    .default('64'),
  device: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "must be 'cpu', 'cuda' or 'cuda:N'" })
    .default('cpu'),
  steps: z.coerce.number().int().positive().default(20),
  warmup: z.coerce.number().int().nonnegative().default(3),
  precision: z.enum(PRECISIONS).default('auto'),
  graph: z.enum(['true', 'false']).default('true'),
  peakTflops: z.coerce.number().positive().optional().describe("the device's peak TFLOP/s for the precision"),
  json: z.string().optional(),
  pytorch: z
    .string()
    .optional()
    .describe('also run the PyTorch reference with this python and print the ratio'),
  pytorchScript: z.string().optional().describe('where bench/pytorch/mae_step.py is'),
});

const DEFAULT_SCRIPT = fileURLToPath(new URL('../../../../bench/pytorch/mae_step.py', import.meta.url));

interface TorchResult {
  readonly images_per_s: number;
  readonly step_ms: { median: number; p25: number; p75: number };
  readonly torch_version: string;
  readonly threads?: number;
}

/** Runs the PyTorch reference for one row; throws with its stderr when it fails. */
function runTorch(
  python: string,
  script: string,
  r: BenchResult,
  steps: number,
  warmup: number,
): TorchResult {
  const out = join(mkdtempSync(join(tmpdir(), 'mae-bench-torch-')), 'r.json');
  const args = [
    script,
    '--model',
    r.model,
    '--batch',
    String(r.batch),
    '--device',
    r.device === 'cpu' ? 'cpu' : 'cuda',
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--precision',
    r.precision === 'bf16' ? 'bf16' : 'fp32',
    '--json',
    out,
  ];
  if (r.device === 'cpu') args.push('--threads', String(cpuThreads()));
  const p = spawnSync(python, args, { encoding: 'utf8', timeout: 3_600_000 });
  if (p.status !== 0)
    throw new Error(
      `the PyTorch reference failed (${python} ${args.join(' ')}):\n${p.stderr || p.error?.message}`,
    );
  return JSON.parse(readFileSync(out, 'utf8')) as TorchResult;
}

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

export function formatRatios(
  pairs: readonly { ours: BenchResult; pytorch: TorchResult; ratio: number }[],
): string {
  const head = [
    'model',
    'batch',
    'device',
    'mae-cuda img/s',
    'PyTorch img/s',
    'ratio (ours / PyTorch)',
    'PyTorch step ms (p25-p75)',
  ];
  const body = pairs.map(({ ours, pytorch, ratio }) => [
    ours.model,
    String(ours.batch),
    ours.device,
    ours.imagesPerSec.toFixed(1),
    pytorch.images_per_s.toFixed(1),
    `${ratio.toFixed(2)}x`,
    `${pytorch.step_ms.median.toFixed(1)} (${pytorch.step_ms.p25.toFixed(1)}-${pytorch.step_ms.p75.toFixed(1)}), torch ${pytorch.torch_version}`,
  ]);
  return table(head, body);
}

/** Columns padded to their widest cell, two spaces apart. */
function table(head: string[], body: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

export function formatBench(rows: readonly BenchResult[]): string {
  const head = [
    'model',
    'batch',
    'device',
    'precision',
    'step ms (median, p25-p75)',
    'img/s',
    'GFLOP/img',
    'TFLOP/s',
    'MFU',
    'peak mem',
  ];
  const body = rows.map((r) => [
    r.model,
    String(r.batch),
    r.device,
    `${r.precision}${r.graph ? ', graph' : ''}`,
    `${r.stepMs.median.toFixed(1)} (${r.stepMs.p25.toFixed(1)}-${r.stepMs.p75.toFixed(1)})`,
    r.imagesPerSec.toFixed(1),
    (r.flopsPerImage / 1e9).toFixed(3),
    r.achievedTflops.toFixed(3),
    r.mfu === undefined ? '-' : `${(100 * r.mfu).toFixed(1)}%`,
    gib(r.peakMemoryBytes),
  ]);
  return table(head, body);
}

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'time the whole training step (median, images/s, FLOP/s, MFU, peak memory)',
  usage:
    'mae-cuda bench [--model mae_tiny_28[,mae_tiny_32]] [--batch 64[,256]] [--device cpu|cuda[:N]] [--steps 20]\n    [--warmup 3] [--precision auto|f32|bf16] [--graph false] [--peak-tflops N] [--json out.json]\n    [--pytorch python3 [--pytorch-script bench/pytorch/mae_step.py]]',
  options,
  async run(o) {
    const fail = (m: string) => {
      console.error(`mae-cuda bench: ${m}`);
      return 2;
    };
    const models = o.model.split(',');
    for (const m of models)
      if (!presetNames.includes(m as PresetName))
        return fail(`--model: unknown preset ${m} (${presetNames.join(', ')})`);
    const spec = o.device === 'cuda' ? 'cuda:0' : o.device;
    if (!devices().some((d) => d.spec === spec))
      return fail(`--device: ${o.device} is not available here (see mae-cuda info)`);
    const rows: BenchResult[] = [];
    for (const name of models)
      for (const batch of o.batch.split(',').map(Number)) {
        const r = await benchStep({
          name,
          model: preset(name as PresetName),
          device: o.device as DeviceSpec,
          batch,
          steps: o.steps,
          warmup: o.warmup,
          precision: o.precision,
          graph: o.graph === 'true',
          ...(o.peakTflops ? { peakTflops: o.peakTflops } : {}),
        });
        const peak = o.peakTflops ?? knownPeak(o.device, r.precision);
        rows.push(peak && r.mfu === undefined ? { ...r, mfu: r.achievedTflops / peak } : r);
      }
    console.log(formatBench(rows));
    let report: unknown = rows;
    if (o.pytorch) {
      const script = o.pytorchScript ?? DEFAULT_SCRIPT;
      if (!existsSync(script)) return fail(`--pytorch-script: ${script} does not exist`);
      const pairs = [];
      for (const r of rows) {
        let t: TorchResult;
        try {
          t = runTorch(o.pytorch, script, r, o.steps, o.warmup);
        } catch (e) {
          console.error(`mae-cuda bench: ${(e as Error).message}`);
          return 1;
        }
        pairs.push({ ours: r, pytorch: t, ratio: r.imagesPerSec / t.images_per_s });
      }
      console.log('');
      console.log(formatRatios(pairs));
      report = pairs;
    }
    if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  },
});
