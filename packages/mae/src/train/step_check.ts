// step_check.ts: the whole-step checks the GPU check script runs (and the CPU runs in tests):
// the same preset, weights, images and noise trained for a number of steps on two devices with
// their loss curves compared, and the step timed (images/s, ms per step, peak device memory).
// Images are seeded uniform noise in [-1, 1] (no dataset needed); every step uses the same batch.
import { type DeviceSpec, memoryStats } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import { initialState } from '../init/state.js';
import { NoiseCounter } from '../masking/device.js';
import { MaskedAutoencoder } from '../model/mae.js';
import { ParamStore } from '../model/params.js';
import { type PrecisionSetting, resolvePrecision } from '../model/plan.js';
import { AdamW, DEFAULT_ADAMW } from '../optim/adamw.js';
import { Streams } from '../rng/noise.js';
import { PhiloxStream } from '../rng/stream.js';
import { TrainStep } from './step.js';

export interface StepRunOptions {
  readonly model: MaeConfig;
  readonly device: DeviceSpec;
  readonly batch: number;
  readonly steps: number;
  readonly seed?: number;
  readonly lr?: number;
  /** CUDA: capture the step in a graph (default true) */
  readonly graph?: boolean;
  /** default auto: bf16 on CUDA, f32 on the CPU */
  readonly precision?: PrecisionSetting;
}

/** Seeded images [batch, C, S, S] uniform in [-1, 1). */
export function syntheticImages(c: MaeConfig, batch: number, seed: number): Float32Array {
  const rng = new PhiloxStream(seed, 0x7777);
  return Float32Array.from(
    { length: batch * c.in_chans * c.img_size * c.img_size },
    () => 2 * rng.uniform() - 1,
  );
}

/** A TrainStep of a fresh model (seeded weights, images and noise, constant lr) for checks and benchmarks. */
export function makeTrainStep(o: StepRunOptions): TrainStep {
  const seed = o.seed ?? 0;
  const params = new ParamStore(initialState(o.model, seed), o.device);
  const model = new MaskedAutoencoder(o.model, params, resolvePrecision(o.precision ?? 'auto', o.device));
  const optim = new AdamW(params, DEFAULT_ADAMW);
  optim.setSchedule(new Float64Array(o.steps + 2).fill(o.lr ?? 1e-3), 0);
  const counter = new NoiseCounter(seed, Streams.maskNoise, 0, 0, o.device);
  const step = new TrainStep(model, optim, counter, o.batch, { graph: o.graph ?? true });
  step.imgs.write(syntheticImages(o.model, o.batch, seed));
  return step;
}

/** The loss of every step (read back after each). */
export async function lossCurve(o: StepRunOptions): Promise<number[]> {
  const step = makeTrainStep(o);
  const losses: number[] = [];
  for (let i = 0; i < o.steps; i++) losses.push((await step.run().toArray())[0]!);
  step.dispose();
  return losses;
}

export interface CurveComparison {
  readonly a: number[];
  readonly b: number[];
  /** largest |a - b| / |b| over the steps */
  readonly maxRel: number;
  /** the step where it occurs */
  readonly at: number;
}

export function compareCurves(a: number[], b: number[]): CurveComparison {
  if (a.length !== b.length) throw new RangeError(`curves differ in length: ${a.length} vs ${b.length}`);
  let maxRel = 0;
  let at = 0;
  a.forEach((x, i) => {
    const r = Math.abs(x - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12);
    if (!(r <= maxRel)) {
      maxRel = r;
      at = i;
    }
  });
  return { a, b, maxRel, at };
}

export interface StepTiming {
  readonly device: DeviceSpec;
  readonly batch: number;
  readonly steps: number;
  readonly msPerStep: number;
  readonly imagesPerSec: number;
  readonly peakBytes: number;
  readonly graphNodes: number;
  readonly precision: string;
}

/** Times `steps` steps after `warmup` (graph capture included in the warm-up on CUDA). */
export async function timeSteps(o: StepRunOptions, warmup = 3): Promise<StepTiming> {
  const step = makeTrainStep({ ...o, steps: o.steps + warmup });
  for (let i = 0; i < warmup; i++) step.run();
  await step.synchronize();
  const t0 = performance.now();
  let loss = step.run();
  for (let i = 1; i < o.steps; i++) loss = step.run();
  await loss.toArray();
  await step.synchronize();
  const ms = (performance.now() - t0) / o.steps;
  const r = {
    device: o.device,
    batch: o.batch,
    steps: o.steps,
    msPerStep: ms,
    imagesPerSec: (1000 * o.batch) / ms,
    peakBytes: memoryStats(o.device).peakAllocated,
    graphNodes: step.graphNodes,
    precision: step.model.computeDType,
  };
  step.dispose();
  return r;
}
