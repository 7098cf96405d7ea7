// epochs.ts: the epoch loop the official main_linprobe.py and main_finetune.py share: a seeded
// shuffle per epoch, full batches (drop_last), the lr of each iteration from the warm-up + cosine
// schedule, a progress update per step; after each epoch top-1/top-5 on the held-out images, a line
// {epoch, loss, lr, top1, top5, images_per_sec, seconds} in log.jsonl, and the best model (by top-1)
// saved.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { epochOrder } from '../data/loader.js';
import { effectiveLr, fractionalEpoch, type LrSchedule, lrAt } from '../schedule/lr.js';
import type { ProgressUpdate } from '../train/progress.js';

export interface EvalEpoch {
  epoch: number;
  loss: number;
  lr: number;
  top1: number;
  top5: number;
  images_per_sec: number;
  seconds: number;
}

export interface EpochLoop {
  /** the command, for messages */
  name: string;
  /** training images */
  images: number;
  batchSize: number;
  seed: number;
  schedule: LrSchedule;
  outputDir: string;
  /** one training step on images idx; resolves to the batch's mean loss */
  step(idx: Uint32Array, epoch: number, lr: number): Promise<number>;
  /** top-1 and top-5 on the held-out images */
  evaluate(): Promise<[number, number]>;
  /** keeps the model of a new best epoch (after `steps` steps in all) */
  saveBest(e: EvalEpoch, steps: number): Promise<void>;
  onStep?: (u: ProgressUpdate) => void;
  onEpoch?: (e: EvalEpoch) => void;
}

/** The flags of a schedule: lr (else blr * batchSize / 256), warm-up, epochs, minimum lr. */
export interface ScheduleSettings {
  epochs: number;
  warmupEpochs: number;
  blr: number;
  lr?: number;
  minLr: number;
  batchSize: number;
}

/** The warm-up + cosine schedule of those flags. */
export function epochSchedule(s: ScheduleSettings): LrSchedule {
  return {
    lr: s.lr ?? effectiveLr(s.blr, s.batchSize),
    min_lr: s.minLr,
    warmup_epochs: s.warmupEpochs,
    epochs: s.epochs,
  };
}

/** Runs the epochs; resolves to every epoch's record and the best one. */
export async function runEpochs(l: EpochLoop): Promise<{ epochs: EvalEpoch[]; best: EvalEpoch }> {
  const steps = Math.floor(l.images / l.batchSize);
  if (steps < 1)
    throw new RangeError(`${l.name}: ${l.images} training images give no batch of ${l.batchSize}`);
  const total = l.schedule.epochs;
  await mkdir(l.outputDir, { recursive: true });
  const log = join(l.outputDir, 'log.jsonl');
  await writeFile(log, '');
  const epochs: EvalEpoch[] = [];
  let best: EvalEpoch | undefined;
  for (let epoch = 0; epoch < total; epoch++) {
    const t0 = performance.now();
    const order = epochOrder(l.seed, epoch, l.images);
    let [sum, lr] = [0, 0];
    for (let step = 0; step < steps; step++) {
      lr = lrAt(l.schedule, fractionalEpoch(step, steps, epoch));
      const loss = await l.step(order.subarray(step * l.batchSize, (step + 1) * l.batchSize), epoch, lr);
      if (!Number.isFinite(loss))
        throw new Error(`${l.name}: the loss is ${loss} at epoch ${epoch}, step ${step}`);
      sum += loss;
      const seconds = (performance.now() - t0) / 1000;
      l.onStep?.({
        step: epoch * steps + step + 1,
        totalSteps: total * steps,
        epoch,
        loss,
        lr,
        imagesPerSec: ((step + 1) * l.batchSize) / seconds,
      });
    }
    const trained = (performance.now() - t0) / 1000;
    const [top1, top5] = await l.evaluate();
    const e: EvalEpoch = {
      epoch,
      loss: sum / steps,
      lr,
      top1,
      top5,
      images_per_sec: (steps * l.batchSize) / trained,
      seconds: (performance.now() - t0) / 1000,
    };
    epochs.push(e);
    await appendFile(log, `${JSON.stringify(e)}\n`);
    if (!best || e.top1 > best.top1) {
      best = e;
      await l.saveBest(e, (epoch + 1) * steps);
    }
    l.onEpoch?.(e);
  }
  return { epochs, best: best! };
}
