// kernels.ts: where a training step's time goes. A few eager steps (no CUDA graph) run with the
// OpProfiler on; each op's time per step is grouped into kernel classes (GEMMs, attention, norms,
// loss, optimiser, elementwise, reductions, masking and data movement). The sum of the ops is the
// device's busy time; the eager step's wall time minus that sum is launch and host overhead, which
// the captured step (what `benchStep` times) mostly removes.
import { OpProfiler, type OpTime } from '@mae-cuda/native';
import { makeTrainStep } from '../train/step_check.js';
import type { BenchOptions } from './run.js';

export const KERNEL_CLASSES = [
  'GEMM',
  'attention',
  'norms',
  'loss',
  'optimiser',
  'elementwise',
  'reductions',
  'masking and data movement',
] as const;
export type KernelClass = (typeof KERNEL_CLASSES)[number];

const RULES: readonly [RegExp, KernelClass][] = [
  [
    /^(linear_|linear_gelu_|linear_residual_)forward$|^linear_gelu_dx_backward$|^matmul_(nn|nt|tn|tt)$/,
    'GEMM',
  ],
  [/^(attention|softmax)_(forward|backward)$/, 'attention'],
  [/^layernorm_(residual_)?(forward|backward)$|^batchnorm1d_(stats_|eval_)?(forward|backward)$/, 'norms'],
  [/^mae_loss_(forward|backward)$|^masked_mean_forward$|^(soft_)?cross_entropy_(forward|backward)$/, 'loss'],
  [/^adamw_(flat_bf16_|flat_|hyper_)?forward$|^lars_(norms_)?forward$/, 'optimiser'],
  [
    /^(gelu|bias_add|bias_gelu|residual|scale|cast|add_rows|image_normalize|mixup|cutmix|mixup_target)_forward$|^gelu_backward$|^drop_path_(forward|backward)$/,
    'elementwise',
  ],
  [/^(sum|sumsq|max|mean)_forward$|^token_pool_(forward|backward)$/, 'reductions'],
  [
    /^(gather_rows|unshuffle|prepend_token|slice_rows|qkv_split)_(forward|backward)$|^(swap12|patchify|patch_im2col|philox_noise|noise_step|mask_ranks|mask_from_ranks|ids_invert)_forward$/,
    'masking and data movement',
  ],
];

/** The class of an op, by name; undefined for an op no rule names (a test keeps that empty). */
export function kernelClass(op: string): KernelClass | undefined {
  return RULES.find(([re]) => re.test(op))?.[1];
}

export interface ClassTime {
  readonly class: KernelClass | 'other';
  /** per step */
  readonly ms: number;
  readonly calls: number;
  /** of the ops' total */
  readonly share: number;
}

export interface KernelBreakdown {
  /** eager steps profiled */
  readonly steps: number;
  /** the ops' time per step */
  readonly opsMs: number;
  /** the eager step's wall time (mean over the profiled steps) */
  readonly eagerStepMs: number;
  readonly classes: readonly ClassTime[];
  /** each op per step, slowest first */
  readonly ops: readonly OpTime[];
}

/** Groups per-step op times into classes (every class listed, slowest first, then 'other'). */
export function groupByClass(perStep: readonly OpTime[]): ClassTime[] {
  const total = perStep.reduce((s, o) => s + o.ms, 0);
  const acc = new Map<KernelClass | 'other', { ms: number; calls: number }>();
  for (const c of KERNEL_CLASSES) acc.set(c, { ms: 0, calls: 0 });
  for (const o of perStep) {
    const c = kernelClass(o.name) ?? 'other';
    const a = acc.get(c) ?? { ms: 0, calls: 0 };
    a.ms += o.ms;
    a.calls += o.calls;
    acc.set(c, a);
  }
  return [...acc]
    .filter(([c, a]) => c !== 'other' || a.calls > 0)
    .map(([c, a]) => ({ class: c, ms: a.ms, calls: a.calls, share: total > 0 ? a.ms / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

/** Runs one warm-up and `steps` profiled eager steps of the bench's configuration. */
export async function profileStep(o: BenchOptions, steps: number): Promise<KernelBreakdown> {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`profile steps must be >= 1, got ${steps}`);
  const step = makeTrainStep({
    model: o.model,
    device: o.device,
    batch: o.batch,
    steps: steps + 1,
    graph: false,
    ...(o.precision ? { precision: o.precision } : {}),
  });
  const profiler = new OpProfiler();
  try {
    step.run();
    await step.synchronize();
    profiler.start();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step.run();
    await step.synchronize();
    const wall = (performance.now() - t0) / steps;
    profiler.stop();
    const perStep = profiler
      .collect()
      .map((t) => ({ name: t.name, calls: t.calls / steps, ms: t.ms / steps }));
    return {
      steps,
      opsMs: perStep.reduce((s, t) => s + t.ms, 0),
      eagerStepMs: wall,
      classes: groupByClass(perStep),
      ops: perStep,
    };
  } finally {
    profiler.dispose();
    step.dispose();
  }
}
