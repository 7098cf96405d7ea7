// run.ts: main_linprobe.py's loop: the frozen encoder's features of RandomResizedCrop + flip views
// through the BatchNorm1d + linear head, trained by LARS with lr = blr * batch / 256, warm-up and
// half-cosine per iteration (the pretraining schedule), drop_last batches; after each epoch top-1 and
// top-5 on the held-out images' centre crops, a line in log.jsonl, and the best head (by top-1) kept
// in checkpoint-best.safetensors (written to a temporary file, then renamed).
import { join } from 'node:path';
import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import { type EvalEpoch, epochSchedule, runEpochs } from '../eval/epochs.js';
import type { LabelledImages } from '../eval/images.js';
import { writeSafetensorsAtomic } from '../io/safetensors.js';
import type { MaskedAutoencoder } from '../model/mae.js';
import type { ProgressUpdate } from '../train/progress.js';
import { topKAccuracy } from './accuracy.js';
import { type ProbePool, probeFeatures } from './features.js';
import { ProbeHead } from './head.js';
import { evalBatch, trainBatch } from './views.js';

export interface ProbeSettings {
  epochs: number;
  warmupEpochs: number;
  blr: number;
  /** the absolute lr; else blr * batchSize / 256 */
  lr?: number;
  minLr: number;
  batchSize: number;
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

/** Trains the probe; resolves to every epoch's record and the best one. */
export async function runLinprobe(r: ProbeRun): Promise<{ epochs: ProbeEpoch[]; best: ProbeEpoch }> {
  const s = r.settings;
  if (s.batchSize < 2)
    throw new RangeError(`linprobe: a batch of ${s.batchSize} (BatchNorm needs at least 2)`);
  const head = new ProbeHead(r.model.config.embed_dim, r.classes, s.seed, s.device);
  return runEpochs({
    name: 'linprobe',
    images: r.train.images.length,
    batchSize: s.batchSize,
    seed: s.seed,
    schedule: epochSchedule(s),
    outputDir: s.outputDir,
    step: async (idx, epoch, lr) => {
      const imgs = await trainBatch(r.train.images, idx, s.seed, epoch, s.device);
      const feats = await probeFeatures(r.model, imgs, s.pool);
      return head.trainStep(feats, labelsTensor(r.train.labels, idx, s.device), lr, s.weightDecay);
    },
    evaluate: () => evaluateProbe(r, head),
    saveBest: (e) => saveHead(join(s.outputDir, 'checkpoint-best.safetensors'), head, e, s),
    ...(r.onStep ? { onStep: r.onStep } : {}),
    ...(r.onEpoch ? { onEpoch: r.onEpoch } : {}),
  });
}

/** The head (official names: head.1 the linear layer, head.0 the BatchNorm's running statistics). */
async function saveHead(path: string, head: ProbeHead, e: ProbeEpoch, s: ProbeSettings): Promise<void> {
  const st = await head.state();
  const f32 = (data: Float32Array, shape: number[]) => ({ dtype: 'F32' as const, shape, data });
  const [K, D] = [head.classes, head.dim];
  await writeSafetensorsAtomic(
    path,
    {
      'head.0.running_mean': f32(st.running_mean, [D]),
      'head.0.running_var': f32(st.running_var, [D]),
      'head.1.weight': f32(st.weight, [K, D]),
      'head.1.bias': f32(st.bias, [K]),
    },
    {
      epoch: String(e.epoch),
      top1: String(e.top1),
      top5: String(e.top5),
      pool: s.pool,
    },
  );
}
