// format.ts: the tables `mae-cuda bench` prints: our step figures per preset and batch (over
// repeated runs: the run with the median images/s, and the range), the kernel classes of a
// profiled step, and the side-by-side comparison with PyTorch (ratio of images/s).
import type { BenchResult } from '@mae-cuda/mae';
import type { TorchResult } from './torch.js';

/** One preset and batch: every run of ours (and of PyTorch, per mode) and the median ones. */
export interface BenchRow {
  /** the run with the median images/s */
  readonly ours: BenchResult;
  /** images/s of every run, in run order */
  readonly oursRuns: readonly number[];
  readonly pytorch: readonly TorchRow[];
}

export interface TorchRow {
  readonly mode: 'eager' | 'compile';
  readonly median: TorchResult;
  readonly runs: readonly number[];
  /** median ours / median PyTorch images/s */
  readonly ratio: number;
  /** lowest and highest ratio of runs made back to back (ours run i / PyTorch run i) */
  readonly ratioRange: readonly [number, number];
}

/** Columns padded to their widest cell, two spaces apart; or a Markdown table. */
export function table(
  head: readonly string[],
  body: readonly (readonly string[])[],
  markdown = false,
): string {
  if (markdown) {
    const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
    return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
  }
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

/** The index of the median of xs (the lower middle one for an even count). */
export function medianIndex(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]! || a - b);
  return order[Math.floor((xs.length - 1) / 2)]!;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const range = (xs: readonly number[], digits = 1) =>
  xs.length < 2 ? '-' : `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

export function formatBench(rows: readonly BenchRow[], markdown = false): string {
  const head = [
    'model',
    'batch',
    'device',
    'precision',
    'step ms (median, p25-p75)',
    'img/s',
    'img/s over runs',
    'GFLOP/img',
    'TFLOP/s',
    'MFU',
    'floor ms',
    'peak mem',
  ];
  const body = rows.map(({ ours: r, oursRuns }) => [
    r.model,
    String(r.batch),
    r.device,
    `${r.precision}${r.graph ? ', graph' : ''}`,
    `${r.stepMs.median.toFixed(1)} (${r.stepMs.p25.toFixed(1)}-${r.stepMs.p75.toFixed(1)})`,
    r.imagesPerSec.toFixed(1),
    oursRuns.length < 2 ? '-' : `${range(oursRuns)} (${oursRuns.length} runs)`,
    (r.flopsPerImage / 1e9).toFixed(3),
    r.achievedTflops.toFixed(3),
    r.mfu === undefined ? '-' : `${(100 * r.mfu).toFixed(1)}%`,
    // the model FLOPs at the peak rate: the step's arithmetic floor
    r.mfu === undefined ? '-' : (r.stepMs.median * r.mfu).toFixed(2),
    gib(r.peakMemoryBytes),
  ]);
  return table(head, body, markdown);
}

/** Where one row's step time goes, by kernel class (from its profiled eager steps). */
export function formatKernels(r: BenchResult, markdown = false): string {
  const k = r.kernels;
  if (!k) return '';
  const title =
    `where the time goes: ${r.model}, batch ${r.batch}, ${r.device}, ${r.precision} ` +
    `(${k.steps} eager step${k.steps === 1 ? '' : 's'} profiled op by op: ops ${k.opsMs.toFixed(2)} ms of a ${k.eagerStepMs.toFixed(2)} ms eager step; ` +
    `the timed step: ${r.stepMs.median.toFixed(2)} ms)`;
  const body = k.classes.map((c) => [
    c.class,
    c.ms.toFixed(3),
    `${(100 * c.share).toFixed(1)}%`,
    String(Math.round(c.calls)),
  ]);
  const top = k.ops
    .slice(0, 5)
    .map((o) => `${o.name} ${o.ms.toFixed(3)} ms`)
    .join(', ');
  const t = table(['kernel class', 'ms/step', 'share', 'calls/step'], body, markdown);
  return markdown ? `${title}:\n\n${t}\n\nslowest ops: ${top}` : `${title}\n${t}\nslowest ops: ${top}`;
}

export function formatRatios(rows: readonly BenchRow[], markdown = false): string {
  const head = [
    'model',
    'batch',
    'device',
    'PyTorch',
    'mae-cuda img/s',
    'PyTorch img/s',
    'ratio (ours / PyTorch)',
    'ratio range',
    'PyTorch step ms (p25-p75)',
  ];
  const body = rows.flatMap(({ ours, oursRuns, pytorch }) =>
    pytorch.map((t) => [
      ours.model,
      String(ours.batch),
      ours.device,
      `${t.median.torch_version} ${t.mode}`,
      `${ours.imagesPerSec.toFixed(1)}${oursRuns.length > 1 ? ` (${range(oursRuns)})` : ''}`,
      `${t.median.images_per_s.toFixed(1)}${t.runs.length > 1 ? ` (${range(t.runs)})` : ''}`,
      `${t.ratio.toFixed(2)}x`,
      t.runs.length < 2 ? '-' : `${t.ratioRange[0].toFixed(2)}-${t.ratioRange[1].toFixed(2)}x`,
      `${t.median.step_ms.median.toFixed(1)} (${t.median.step_ms.p25.toFixed(1)}-${t.median.step_ms.p75.toFixed(1)})`,
    ]),
  );
  return table(head, body, markdown);
}
