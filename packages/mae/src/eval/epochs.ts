// epochs.ts: the epoch loop the official main_linprobe.py and main_finetune.py share
// (engine_finetune.train_one_epoch): a seeded shuffle per epoch, full batches (drop_last), the lr
// set from the warm-up + cosine schedule at data_iter_step / len(data_loader) + epoch on the first
// iteration of every accum_iter window, the update after the window's last iteration (iterations
// past the last whole window run and are logged, their gradients dropped, as the official loop
// does), a progress update per iteration; after each epoch top-1/top-5 on the held-out images, a
// line {epoch, loss, lr, top1, top5, images_per_sec, seconds} in log.jsonl, the best model (by
// top-1) saved, then the state to resume from (checkpoint-last). A resumed run starts at the epoch
// after its checkpoint's with the best so far, and continues its log (eval/resume.ts).
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { epochOrder } from '../data/loader.js';
import { effectiveBatch, effectiveLr, fractionalEpoch, type LrSchedule, lrAt } from '../schedule/lr.js';
import type { ProgressUpdate } from '../train/progress.js';
import { carryBest, continueLog } from './resume.js';

export interface EvalEpoch {
  epoch: number;
  loss: number;
  lr: number;
  top1: number;
  top5: number;
  images_per_sec: number;
  seconds: number;
}

/** Where in the run an iteration is. */
export interface Iteration {
  epoch: number;
  /** the iteration's index in the whole run (epoch x iterations per epoch + data_iter_step) */
  index: number;
  /** its place in its accumulation window, 0 .. accum_iter - 1 */
  k: number;
}

/** Where a run starts: the epoch after the checkpoint's, its best epoch, its log's folder. */
export interface EpochStart {
  epoch: number;
  best?: EvalEpoch | undefined;
  logFrom: string;
}

export interface EpochLoop {
  /** the command, for messages */
  name: string;
  /** training images */
  images: number;
  batchSize: number;
  accumIter: number;
  seed: number;
  schedule: LrSchedule;
  outputDir: string;
  /** a resumed run's start (a new run starts at epoch 0) */
  start?: EpochStart | undefined;
  /** the forward and backward of images idx (the loss scaled by 1 / accum_iter); their mean loss */
  micro(idx: Uint32Array, it: Iteration): Promise<number>;
  /** the optimiser step at the end of a window */
  update(lr: number): Promise<void>;
  /** top-1 and top-5 on the held-out images */
  evaluate(): Promise<[number, number]>;
  /** keeps the model of a new best epoch (after `steps` optimiser steps in all) */
  saveBest(e: EvalEpoch, steps: number): Promise<void>;
  /** keeps the state to resume from after epoch e */
  saveLast(e: EvalEpoch, best: EvalEpoch, steps: number): Promise<void>;
  onStep?: (u: ProgressUpdate) => void;
  onEpoch?: (e: EvalEpoch) => void;
}

/** The flags of a schedule: lr (else blr * batchSize * accumIter / 256), warm-up, epochs, minimum lr. */
export interface ScheduleSettings {
  epochs: number;
  warmupEpochs: number;
  blr: number;
  lr?: number | undefined;
  minLr: number;
  batchSize: number;
  /** default 1 */
  accumIter?: number | undefined;
}

/** The warm-up + cosine schedule of those flags. */
export function epochSchedule(s: ScheduleSettings): LrSchedule {
  return {
    lr: s.lr ?? effectiveLr(s.blr, effectiveBatch(s.batchSize, s.accumIter)),
    min_lr: s.minLr,
    warmup_epochs: s.warmupEpochs,
    epochs: s.epochs,
  };
}

/** Iterations (drop_last batches) and optimiser steps of an epoch of l. */
export function epochShape(l: Pick<EpochLoop, 'name' | 'images' | 'batchSize' | 'accumIter'>) {
  if (!Number.isInteger(l.accumIter) || l.accumIter < 1)
    throw new RangeError(`${l.name}: accum_iter must be a positive integer, got ${l.accumIter}`);
  const iters = Math.floor(l.images / l.batchSize);
  const steps = Math.floor(iters / l.accumIter);
  if (steps < 1)
    throw new RangeError(
      `${l.name}: ${l.images} training images give no step of batch ${l.batchSize} x accum_iter ${l.accumIter}`,
    );
  return { iters, steps };
}

/** One epoch's iterations; resolves to their mean loss and the last lr set. */
async function trainEpoch(l: EpochLoop, epoch: number, t0: number): Promise<{ loss: number; lr: number }> {
  const { iters } = epochShape(l);
  const B = l.batchSize;
  const order = epochOrder(l.seed, epoch, l.images);
  let [sum, lr] = [0, 0];
  for (let i = 0; i < iters; i++) {
    const k = i % l.accumIter;
    if (k === 0) lr = lrAt(l.schedule, fractionalEpoch(i, iters, epoch));
    const loss = await l.micro(order.subarray(i * B, (i + 1) * B), { epoch, index: epoch * iters + i, k });
    if (!Number.isFinite(loss))
      throw new Error(`${l.name}: the loss is ${loss} at epoch ${epoch}, step ${i}`);
    if (k === l.accumIter - 1) await l.update(lr);
    sum += loss;
    const seconds = (performance.now() - t0) / 1000;
    l.onStep?.({
      step: epoch * iters + i + 1,
      totalSteps: l.schedule.epochs * iters,
      epoch,
      loss,
      lr,
      imagesPerSec: ((i + 1) * B) / seconds,
    });
  }
  return { loss: sum / iters, lr };
}

/** Runs the epochs; resolves to every epoch's record (this run's) and the best one. */
export async function runEpochs(l: EpochLoop): Promise<{ epochs: EvalEpoch[]; best?: EvalEpoch }> {
  const { iters, steps } = epochShape(l);
  await mkdir(l.outputDir, { recursive: true });
  const first = l.start?.epoch ?? 0;
  await continueLog(l.outputDir, first, l.start?.logFrom ?? l.outputDir);
  if (l.start) await carryBest(l.outputDir, l.start);
  const epochs: EvalEpoch[] = [];
  let best = l.start?.best;
  for (let epoch = first; epoch < l.schedule.epochs; epoch++) {
    const t0 = performance.now();
    const { loss, lr } = await trainEpoch(l, epoch, t0);
    const trained = (performance.now() - t0) / 1000;
    const [top1, top5] = await l.evaluate();
    const seconds = (performance.now() - t0) / 1000;
    const e: EvalEpoch = {
      epoch,
      loss,
      lr,
      top1,
      top5,
      images_per_sec: (iters * l.batchSize) / trained,
      seconds,
    };
    epochs.push(e);
    await appendFile(join(l.outputDir, 'log.jsonl'), `${JSON.stringify(e)}\n`);
    if (!best || e.top1 > best.top1) {
      best = e;
      await l.saveBest(e, (epoch + 1) * steps);
    }
    await l.saveLast(e, best, (epoch + 1) * steps);
    l.onEpoch?.(e);
  }
  return { epochs, ...(best ? { best } : {}) };
}
