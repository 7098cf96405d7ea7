// run.ts: main_linprobe.py's loop: the frozen encoder's features of RandomResizedCrop + flip views
// through the BatchNorm1d + linear head, the loss divided by accum_iter, LARS every accum_iter
// iterations with lr = blr * batch * accum_iter / 256, warm-up and half-cosine per iteration (the
// pretraining schedule), drop_last batches (eval/epochs.ts); after each epoch top-1 and top-5 on
// the held-out images' centre crops, a line in log.jsonl, the best head (by top-1) kept in
// checkpoint-best.safetensors and the state to resume from in checkpoint-last.safetensors
// (checkpoint.ts). The views are keyed by (seed, epoch, image), so a resumed run is the
// uninterrupted one.
import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import { type EvalEpoch, epochSchedule, runEpochs, type ScheduleSettings } from '../eval/epochs.js';
import type { LabelledImages } from '../eval/images.js';
import type { Resumed } from '../eval/resume.js';
import type { MaskedAutoencoder } from '../model/mae.js';
import type { ProgressUpdate } from '../train/progress.js';
import { topKAccuracy } from './accuracy.js';
import { restoreHead, saveBestHead, saveLastHead } from './checkpoint.js';
import { type ProbePool, probeFeatures } from './features.js';
import { ProbeHead } from './head.js';
import { evalBatch, trainBatch } from './views.js';

/**
 * The schedule's flags (eval/epochs.ts; accumIter: iterations whose gradients are summed for one
 * LARS step, the loss divided by it), and the rest.
 */
export interface ProbeSettings extends ScheduleSettings {
  weightDecay: number;
  pool: ProbePool;
  seed: number;
  device: DeviceSpec;
  outputDir: string;
}

/** An epoch's record (a line of log.jsonl). */
export type ProbeEpoch = EvalEpoch;

export interface ProbeRun {
  model: MaskedAutoencoder;
  train: LabelledImages;
  test: LabelledImages;
  classes: number;
  settings: ProbeSettings;
  /** what checkpoint-last records besides the head (e.g. the command's settings) */
  record?: Record<string, unknown>;
  /** checkpoint-last's state when resuming (checkpoint.ts resumeHead reads it for this head) */
  resume?: { head: ProbeHead; from: Resumed } | undefined;
  onStep?: (u: ProgressUpdate) => void;
  onEpoch?: (e: ProbeEpoch) => void;
}

/** The labels of images `idx` as an i64 tensor. */
export const labelsTensor = (labels: Int32Array, idx: ArrayLike<number>, device: DeviceSpec) =>
  Tensor.fromArray(
    'i64',
    [idx.length],
    Array.from(idx, (i) => labels[i]!),
    device,
  );

/** Top-1 and top-5 of the head on the held-out images. */
export async function evaluateProbe(r: ProbeRun, head: ProbeHead): Promise<[number, number]> {
  const { images, labels } = r.test;
  const { batchSize, device, pool } = r.settings;
  const logits = new Float32Array(images.length * r.classes);
  for (let at = 0; at < images.length; at += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, images.length - at) }, (_, k) => at + k);
    const feats = await probeFeatures(r.model, evalBatch(images, idx, device), pool);
    logits.set(await head.logits(feats), at * r.classes);
  }
  const [top1, top5] = topKAccuracy(logits, labels, r.classes, [1, 5]);
  return [top1!, top5!];
}

/** The head a run trains: fresh, or the one a resumed checkpoint was read for (restored). */
function headOf(r: ProbeRun): ProbeHead {
  const s = r.settings;
  if (!r.resume) return new ProbeHead(r.model.config.embed_dim, r.classes, s.seed, s.device);
  restoreHead(r.resume.head, r.resume.from.read);
  return r.resume.head;
}

/** Trains the probe; resolves to this run's epochs and the best one. */
export async function runLinprobe(r: ProbeRun): Promise<{ epochs: ProbeEpoch[]; best?: ProbeEpoch }> {
  const s = r.settings;
  if (s.batchSize < 2)
    throw new RangeError(`linprobe: a batch of ${s.batchSize} (BatchNorm needs at least 2)`);
  const head = headOf(r);
  const record = { model: r.model.config, classes: r.classes, pool: s.pool, ...r.record };
  return runEpochs({
    name: 'linprobe',
    images: r.train.images.length,
    batchSize: s.batchSize,
    accumIter: s.accumIter ?? 1,
    seed: s.seed,
    schedule: epochSchedule(s),
    outputDir: s.outputDir,
    start: r.resume?.from.start,
    micro: async (idx, it) => {
      const imgs = await trainBatch(r.train.images, idx, s.seed, it.epoch, s.device);
      const feats = await probeFeatures(r.model, imgs, s.pool);
      return head.accumulate(
        feats,
        labelsTensor(r.train.labels, idx, s.device),
        it.k,
        1 / (s.accumIter ?? 1),
      );
    },
    update: async (lr) => head.update(lr, s.weightDecay),
    evaluate: () => evaluateProbe(r, head),
    saveBest: (e) => saveBestHead(s.outputDir, head, e, s.pool),
    saveLast: (e, best, steps) => saveLastHead(s.outputDir, head, { e, best, steps, record }),
    ...(r.onStep ? { onStep: r.onStep } : {}),
    ...(r.onEpoch ? { onEpoch: r.onEpoch } : {}),
  });
}
