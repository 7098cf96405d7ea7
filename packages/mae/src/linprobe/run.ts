// run.ts: main_linprobe.py's loop: the frozen encoder's features of RandomResizedCrop + flip views
// through the BatchNorm1d + linear head, trained by LARS with lr = blr * batch / 256, warm-up and
// half-cosine per iteration (the pretraining schedule), drop_last batches; after each epoch top-1 and
// top-5 on the held-out images' centre crops, a line in log.jsonl, and the best head (by top-1) kept
// in checkpoint-best.safetensors (written to a temporary file, then renamed).
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import { epochOrder } from '../data/loader.js';
import type { LabelledImages } from '../eval/images.js';
import { writeSafetensorsAtomic } from '../io/safetensors.js';
import type { MaskedAutoencoder } from '../model/mae.js';
import { effectiveLr, fractionalEpoch, type LrSchedule, lrAt } from '../schedule/lr.js';
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

export interface ProbeEpoch {
  epoch: number;
  loss: number;
  lr: number;
  top1: number;
  top5: number;
  images_per_sec: number;
  seconds: number;
}

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
  const n = r.train.images.length;
  const steps = Math.floor(n / s.batchSize);
  if (steps < 1 || s.batchSize < 2)
    throw new RangeError(
      `linprobe: ${n} training images give no batch of ${s.batchSize} (at least 2 are needed)`,
    );
  const sched: LrSchedule = {
    lr: s.lr ?? effectiveLr(s.blr, s.batchSize),
    min_lr: s.minLr,
    warmup_epochs: s.warmupEpochs,
    epochs: s.epochs,
  };
  const head = new ProbeHead(r.model.config.embed_dim, r.classes, s.seed, s.device);
  await mkdir(s.outputDir, { recursive: true });
  const log = join(s.outputDir, 'log.jsonl');
  await writeFile(log, '');
  const epochs: ProbeEpoch[] = [];
  let best: ProbeEpoch | undefined;
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    const t0 = performance.now();
    const order = epochOrder(s.seed, epoch, n);
    let [sum, lr] = [0, 0];
    for (let step = 0; step < steps; step++) {
      lr = lrAt(sched, fractionalEpoch(step, steps, epoch));
      const idx = order.subarray(step * s.batchSize, (step + 1) * s.batchSize);
      const imgs = await trainBatch(r.train.images, idx, s.seed, epoch, s.device);
      const feats = await probeFeatures(r.model, imgs, s.pool);
      const loss = await head.trainStep(
        feats,
        labelsTensor(r.train.labels, idx, s.device),
        lr,
        s.weightDecay,
      );
      if (!Number.isFinite(loss))
        throw new Error(`linprobe: the loss is ${loss} at epoch ${epoch}, step ${step}`);
      sum += loss;
      const seconds = (performance.now() - t0) / 1000;
      r.onStep?.({
        step: epoch * steps + step + 1,
        totalSteps: s.epochs * steps,
        epoch,
        loss,
        lr,
        imagesPerSec: ((step + 1) * s.batchSize) / seconds,
      });
    }
    const trained = (performance.now() - t0) / 1000;
    const [top1, top5] = await evaluateProbe(r, head);
    const e: ProbeEpoch = {
      epoch,
      loss: sum / steps,
      lr,
      top1,
      top5,
      images_per_sec: (steps * s.batchSize) / trained,
      seconds: (performance.now() - t0) / 1000,
    };
    epochs.push(e);
    await appendFile(log, `${JSON.stringify(e)}\n`);
    if (!best || e.top1 > best.top1) {
      best = e;
      await saveHead(join(s.outputDir, 'checkpoint-best.safetensors'), head, e, s);
    }
    r.onEpoch?.(e);
  }
  return { epochs, best: best! };
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
