// run.ts: `mae-cuda bench`'s measurement: the whole training step (TrainStep: forward, loss,
// backward, AdamW; a CUDA graph on CUDA) of a preset at a batch size, timed step by step after a
// warm-up (each step waited for), with the median and spread, images/s, model FLOP/s from
// flops.ts and, given the device's peak, the model FLOPs utilisation; the allocator's peak; and,
// with profileSteps, the time of each kernel class from profiled eager steps (kernels.ts).
import { collectGarbage, type DeviceSpec, memoryStats, resetPeakMemory } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import type { PrecisionSetting } from '../model/plan.js';
import { makeTrainStep } from '../train/step_check.js';
import { stepFlops } from './flops.js';
import { type KernelBreakdown, profileStep } from './kernels.js';

export interface BenchOptions {
  readonly name: string;
  readonly model: MaeConfig;
  readonly device: DeviceSpec;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly precision?: PrecisionSetting;
  readonly graph?: boolean;
  /** the device's peak matrix rate for the precision, TFLOP/s (for the utilisation) */
  readonly peakTflops?: number;
  /** eager steps to profile op by op afterwards (kernels.ts); 0 or none: no breakdown */
  readonly profileSteps?: number;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p25: number;
  readonly p75: number;
}

export interface BenchResult {
  readonly framework: 'mae-cuda';
  readonly model: string;
  readonly device: DeviceSpec;
  readonly batch: number;
  readonly precision: string;
  readonly graph: boolean;
  readonly steps: number;
  readonly warmup: number;
  readonly stepMs: Spread;
  readonly imagesPerSec: number;
  readonly flopsPerImage: number;
  readonly achievedTflops: number;
  readonly mfu?: number;
  /** the allocator's peak during the run, above what was allocated before it */
  readonly peakMemoryBytes: number;
  /** where the time goes, from profiled eager steps (with profileSteps) */
  readonly kernels?: KernelBreakdown;
}

/** Quantiles of a sample (linear interpolation between order statistics). */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new RangeError('spread of no values');
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const i = p * (s.length - 1);
    const lo = Math.floor(i);
    return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (i - lo);
  };
  return { median: q(0.5), min: s[0]!, max: s.at(-1)!, p25: q(0.25), p75: q(0.75) };
}

export async function benchStep(o: BenchOptions): Promise<BenchResult> {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new RangeError(`steps must be >= 1, got ${o.steps}`);
  if (!Number.isInteger(o.warmup) || o.warmup < 0)
    throw new RangeError(`warmup must be >= 0, got ${o.warmup}`);
  // what earlier work left for the garbage collector goes back first: the peak is this step's
  await collectGarbage();
  resetPeakMemory(o.device);
  const before = memoryStats(o.device).allocated;
  const step = makeTrainStep({
    model: o.model,
    device: o.device,
    batch: o.batch,
    steps: o.steps + o.warmup,
    ...(o.precision ? { precision: o.precision } : {}),
    ...(o.graph === undefined ? {} : { graph: o.graph }),
  });
  let result: BenchResult;
  try {
    for (let i = 0; i < o.warmup; i++) step.run();
    await step.synchronize();
    const times: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      const t0 = performance.now();
      const loss = step.run();
      await step.synchronize();
      await loss.toArray();
      times.push(performance.now() - t0);
    }
    const stepMs = spread(times);
    const flops = stepFlops(o.model).step;
    const imagesPerSec = (1000 * o.batch) / stepMs.median;
    const achievedTflops = (imagesPerSec * flops) / 1e12;
    result = {
      framework: 'mae-cuda',
      model: o.name,
      device: o.device,
      batch: o.batch,
      precision: step.model.computeDType,
      graph: step.usesGraph,
      steps: o.steps,
      warmup: o.warmup,
      stepMs,
      imagesPerSec,
      flopsPerImage: flops,
      achievedTflops,
      ...(o.peakTflops ? { mfu: achievedTflops / o.peakTflops } : {}),
      peakMemoryBytes: memoryStats(o.device).peakAllocated - before,
    };
  } finally {
    step.dispose();
  }
  if (!o.profileSteps) return result;
  return { ...result, kernels: await profileStep(o, o.profileSteps) };
}
