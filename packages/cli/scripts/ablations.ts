// ablations.ts: the miniature of the MAE paper's Table 1 (a)-(f) and Figure 5 in docs/ABLATIONS.md,
// and the pretrained-against-scratch table of docs/EVALUATION.md. Each variant pretrains
// mae_tiny_28 on Fashion-MNIST (Debian's dataset-fashion-mnist) with one flag changed from the
// baseline, then linear-probes and fine-tunes its encoder on the same data's train split, evaluated
// on its t10k split; the scratch rows probe and fine-tune the baseline's architecture at random
// init. Every stage is a `mae-cuda` command (printed as it runs, so each number has its command);
// a stage whose result is already in OUT is not rerun, so a killed run continues.
//   cd packages/cli && node --import tsx scripts/ablations.ts --out /tmp/ablations [--only a,b]
// writes OUT/results.json, OUT/table.md and OUT/mask_ratio.png (the Figure 5 curve).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodePng, seriesPlot } from '@mae-cuda/mae';
import { VARIANTS, type Variant } from './ablation_variants.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/mae-cuda.js');

const { values: o } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/ablations' },
    data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    only: { type: 'string' },
    'pretrain-epochs': { type: 'string', default: '4' },
    'probe-epochs': { type: 'string', default: '10' },
    'probe-blr': { type: 'string', default: '20' },
    'finetune-epochs': { type: 'string', default: '5' },
    'finetune-blr': { type: 'string', default: '1e-2' },
    // RandAugment and random erasing slow a 5-epoch fine-tuning down (71.6% against 75.1% top-1)
    'finetune-flags': { type: 'string', default: '--aa none --reprob 0' },
    train: { type: 'string', default: '10000' },
    test: { type: 'string', default: '5000' },
  },
});
const OUT = resolve(o.out);

interface StageResult {
  command: string;
  seconds: number;
  /** best top-1 over the epochs (evaluation stages), the last epoch's loss (pretraining) */
  value: number;
}

/** Runs `mae-cuda args`, echoing the command; throws naming it when it fails. */
function mae(args: string[]): number {
  const command = `mae-cuda ${args.join(' ')}`;
  console.log(`\n$ ${command}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${command} exited with ${r.status ?? r.signal}`);
  return (performance.now() - t0) / 1000;
}

function logLines(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** A stage's result, from OUT when an earlier run finished it, else by running it. */
function stage(dir: string, args: string[], value: (lines: Record<string, number>[]) => number): StageResult {
  const file = join(dir, 'result.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const seconds = mae([...args, '--output-dir', dir, '--overwrite']); // a killed stage starts over
  const r = { command: `mae-cuda ${args.join(' ')}`, seconds, value: value(logLines(dir)) };
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return r;
}

const bestTop1 = (lines: Record<string, number>[]) => Math.max(...lines.map((l) => l.top1!));
const lastLoss = (lines: Record<string, number>[]) => lines.at(-1)!.loss!;

interface VariantResult {
  variant: Variant;
  pretrain?: StageResult;
  linprobe: StageResult;
  finetune: StageResult;
}

function evalArgs(v: Variant, checkpoint: string): { linprobe: string[]; finetune: string[] } {
  const common = ['--data', o.data, '--train', o.train, '--test', o.test];
  const init = v.scratch ? ['--random-init'] : [];
  return {
    linprobe: [
      'linprobe',
      '--checkpoint',
      checkpoint,
      ...common,
      '--epochs',
      o['probe-epochs'],
      '--blr',
      o['probe-blr'],
      ...init,
    ],
    finetune: [
      'finetune',
      '--finetune',
      checkpoint,
      ...common,
      '--epochs',
      o['finetune-epochs'],
      '--blr',
      o['finetune-blr'],
      ...o['finetune-flags'].split(' ').filter(Boolean),
      ...init,
      ...(v.finetune ?? []),
    ],
  };
}

function runVariant(v: Variant): VariantResult {
  const pretrainArgs = [
    'pretrain',
    '--data',
    o.data,
    '--epochs',
    o['pretrain-epochs'],
    '--eval',
    'none',
    '--preview',
    '0',
  ];
  const base = v.from ?? v.name;
  const pretrainDir = join(OUT, base, 'pretrain');
  const variantOf = VARIANTS.find((w) => w.name === base)!;
  const pretrain = stage(pretrainDir, [...pretrainArgs, ...variantOf.pretrain], lastLoss);
  const checkpoint = join(pretrainDir, 'checkpoint-last.safetensors');
  const args = evalArgs(v, checkpoint);
  const linprobe = v.skipProbe ? undefined : stage(join(OUT, v.name, 'linprobe'), args.linprobe, bestTop1);
  const finetune = stage(join(OUT, v.name, 'finetune'), args.finetune, bestTop1);
  return { variant: v, ...(v.from ? {} : { pretrain }), linprobe: linprobe!, finetune };
}

const pct = (r?: StageResult) => (r ? `${r.value.toFixed(1)}%` : '—');
const secs = (r?: StageResult) => (r ? `${Math.round(r.seconds)}` : '—');

function table(results: VariantResult[]): string {
  const rows = results.map(({ variant: v, pretrain, linprobe, finetune }) =>
    [
      v.group,
      v.label,
      pct(linprobe),
      pct(finetune),
      pretrain ? pretrain.value.toFixed(4) : '—',
      `${secs(pretrain)} / ${secs(linprobe)} / ${secs(finetune)}`,
    ].join(' | '),
  );
  const head =
    '| table | variant | linear probe top-1 | fine-tune top-1 | last pretrain loss | seconds (pretrain / probe / fine-tune) |';
  return [head, '| --- | --- | ---: | ---: | ---: | ---: |', ...rows.map((r) => `| ${r} |`)].join('\n');
}

function maskRatioFigure(results: VariantResult[]): void {
  const curve = results
    .filter((r) => r.variant.maskRatio !== undefined)
    .sort((a, b) => a.variant.maskRatio! - b.variant.maskRatio!);
  const x = curve.map((r) => r.variant.maskRatio! * 100);
  const img = seriesPlot(
    [
      { name: 'fine-tune', x, y: curve.map((r) => r.finetune.value) },
      { name: 'linear probe', x, y: curve.map((r) => r.linprobe.value) },
    ],
    { xLabel: 'masking ratio (%)', yLabel: `top-1 accuracy on ${o.test} held-out images (%)` },
  );
  writeFileSync(join(OUT, 'mask_ratio.png'), encodePng(img));
}

const only = o.only?.split(',');
const chosen = VARIANTS.filter((v) => !only || only.includes(v.name));
for (const name of only ?? [])
  if (!VARIANTS.some((v) => v.name === name)) throw new Error(`--only: no variant ${name}`);
mkdirSync(OUT, { recursive: true });
const t0 = performance.now();
const results = chosen.map(runVariant);
writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(OUT, 'table.md'), `${table(results)}\n`);
if (!only) maskRatioFigure(results);
console.log(
  `\n${table(results)}\n\n${((performance.now() - t0) / 60000).toFixed(1)} min (stages already in ${OUT} not rerun)`,
);
