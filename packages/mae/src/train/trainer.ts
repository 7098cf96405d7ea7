// trainer.ts: the pretraining loop of the official engine_pretrain.py on our model. Per optimiser
// step: accum_iter micro-batches of batch_size images in the epoch's seeded order, the lr of the
// schedule set at the window's first iteration, masking noise keyed by (seed, optimiser step,
// row of the window) so a window of 2 x B/2 masks exactly as one batch of B, backward scaled by
// 1/accum_iter into the accumulation buffers, optional clipping, then AdamW. A non-finite loss
// stops the run before the update, and non-finite weights stop it at the next save, which they
// never reach (outputs.ts). The output folder is never taken from another run silently
// (output_dir.ts); a resumed run continues its log (history.ts). At each epoch's end and when the
// run stops: checkpoint-last.safetensors (and checkpoint-<step> every save_every epochs), a
// log.jsonl line, loss.csv, reconstructions.png, loss.png.
// Epochs use floor(images / batch_size) micro-batches (drop_last, as the official loader) rounded
// down to whole accumulation windows, so every epoch has the same number of steps and a resumed
// run (which recomputes its place from the step) sees the same data, noise and lr as an
// uninterrupted one.
import { join } from 'node:path';
import { type DeviceSpec, freeAfter, Tensor } from '@mae-cuda/native';
import { gridSize, type MaeConfig, numPatches } from '../config/model.js';
import type { ImageDataset } from '../data/dataset.js';
import { batchArray, batchTensor, epochOrder } from '../data/loader.js';
import { StreamedImages } from '../data/pipeline/streamed.js';
import { type Collective, single } from '../dist/collective.js';
import { shardRange, shardRowOffset } from '../dist/shard.js';
import { NoiseCounter } from '../masking/device.js';
import { randomMasking } from '../masking/random_masking.js';
import { maskScores } from '../masking/sampling.js';
import { MaskedAutoencoder } from '../model/mae.js';
import { resolvePrecision } from '../model/plan.js';
import { type AdamW, MAX_SCHEDULE_STEPS } from '../optim/adamw.js';
import { Streams } from '../rng/noise.js';
import { lrForIteration } from '../schedule/lr.js';
import type { PretrainConfig } from './config.js';
import { clipGradNorm, GradAccumulator } from './grads.js';
import { CHECKPOINT_FILE } from './output_dir.js';
import { NonFiniteLossError } from './outputs.js';
import { writePreview } from './preview.js';
import type { ProgressUpdate } from './progress.js';
import { PretrainSetupError, runPlan } from './run_plan.js';
import { datasetForModel, startRun } from './run_start.js';
import { LossLog, releaseWhenCopied, TrainStep } from './step.js';

/** A step's progress (step = optimiser steps done, this one included; loss = mean over its micro-batches). */
export interface StepRecord extends ProgressUpdate {
  /** before clipping (only when clipping) */
  gradNorm?: number;
}

export interface EpochRecord {
  epoch: number;
  /** optimiser steps done at the end of the epoch (all runs) */
  steps: number;
  loss: number;
  lr: number;
  images_per_s: number;
  seconds: number;
  /** true when the run stopped inside the epoch (--steps) */
  partial?: boolean;
  /** images read from disk: seconds the steps waited for the loader, and samples replaced (bad data) */
  data_wait_s?: number;
  /** images read from disk: what the loader can decode per second with every worker busy */
  loader_images_per_s?: number;
  bad_samples?: number;
}

/** The micro-batches of steps [from, to) of an epoch, in the order they are consumed. */
export function epochBatches(
  from: number,
  to: number,
  accumIter: number,
  indicesOf: (iteration: number) => ArrayLike<number>,
): ArrayLike<number>[] {
  const out: ArrayLike<number>[] = [];
  for (let st = from; st < to; st++)
    for (let k = 0; k < accumIter; k++) out.push(indicesOf(st * accumIter + k));
  return out;
}

/** What the loop runs: checked settings, the model they resolve to and the data (pretrain.ts makes them from settings). */
export interface PretrainLoopOptions {
  config: PretrainConfig;
  model: MaeConfig;
  /** in memory (MNIST), or read from disk by the batch loader (--data PATH) */
  train: ImageDataset | StreamedImages;
  /** images shown in reconstructions.png (none: no figure) */
  preview?: ImageDataset;
  onStep?: (s: StepRecord) => void;
  onEpoch?: (e: EpochRecord) => void;
  /** informational messages (resume, warnings, files written) */
  log?: (message: string) => void;
  /** the data-parallel world (default: one rank); rank 0 alone writes files and reports */
  collective?: Collective;
}

export interface PretrainResult {
  /** optimiser steps done in all */
  steps: number;
  /** the loss of every step of this run */
  losses: number[];
  lr: number;
  checkpoint: string;
  outputDir: string;
  /** the trained model and its optimiser, as at the end */
  model: MaskedAutoencoder;
  optim: AdamW;
}

/** The pretraining loop on checked settings (pretrain(), pretrain.ts, is the public entry). */
export async function runPretraining(o: PretrainLoopOptions): Promise<PretrainResult> {
  const { config: c, model: mc } = o;
  const log = o.log ?? (() => {});
  const device = c.device as DeviceSpec;
  const streamed = o.train instanceof StreamedImages ? o.train : undefined;
  const train = datasetForModel(o.train, mc);
  const preview = o.preview && o.preview.length > 0 ? datasetForModel(o.preview, mc) : undefined;
  if (train !== o.train)
    log(`the grey images are given to the ${mc.in_chans}-channel model as RGB (convert('RGB'))`);
  const coll = o.collective ?? single();
  const { rank, world } = coll;
  const lead = rank === 0; // writes the files, logs and reports
  const plan = runPlan(c, train.length, world);
  const { stepsPerEpoch, itersUsed, schedule, totalSteps } = plan;
  const meta = {
    model: mc,
    train: c,
    dataset: { name: train.name, images: train.length },
    steps_per_epoch: stepsPerEpoch,
    world_size: world,
  };
  const { params, optim, outputs } = await startRun({ c, mc, meta, stepsPerEpoch, coll, log });
  const norm = streamed?.normalisation(device); // made here: not a temporary of the first step
  const model = new MaskedAutoencoder(mc, params, resolvePrecision(c.precision, device));
  const accum = new GradAccumulator(params, optim.trainable, c.accum_iter);
  const L = numPatches(mc);
  const B = c.batch_size;
  // the masking scores of B rows from global row `rows` at `step` (random: the masking noise itself)
  const scoresOf = (step: number, rows: number) =>
    maskScores({
      sampling: c.mask_sampling,
      seed: c.seed,
      step,
      N: B,
      side: gridSize(mc),
      maskRatio: mc.mask_ratio,
      rowOffset: rows,
    });

  // the whole-step path (device masking, device lr schedule; a CUDA graph on CUDA) whenever the
  // step has no host decisions in it: one micro-batch per step and no clipping
  const lrOf = (step: number) => {
    const e = Math.floor(step / stepsPerEpoch);
    return lrForIteration(schedule, e, (step - e * stepsPerEpoch) * c.accum_iter, itersUsed, c.accum_iter);
  };
  let stepper: TrainStep | undefined;
  const enqueueMean = coll.enqueueMean?.bind(coll);
  if (
    c.accum_iter === 1 &&
    c.clip_grad === undefined &&
    (world === 1 || enqueueMean) &&
    optim.step < totalSteps
  ) {
    const from = optim.step;
    if (totalSteps - from > MAX_SCHEDULE_STEPS)
      throw new PretrainSetupError(
        c.steps === undefined ? 'epochs' : 'steps',
        `the run has ${totalSteps - from} steps to go, more than the ${MAX_SCHEDULE_STEPS} the device lr schedule holds; ` +
          'run it in parts with --steps (a resumed run continues the same schedule)',
      );
    optim.setSchedule(
      Float64Array.from({ length: totalSteps - from }, (_, k) => lrOf(from + k)),
      from,
    );
    const counter = new NoiseCounter(c.seed, Streams.maskNoise, optim.step, shardRowOffset(B, rank), device);
    stepper = new TrainStep(model, optim, counter, B, {
      graph: c.cuda_graph,
      hostScores: c.mask_sampling !== 'random',
      // NCCL: inside the step (a world of 1 included), in buckets overlapping the backward
      ...(enqueueMean ? { mean: enqueueMean } : {}),
      ...(coll.overlap && c.ddp_overlap ? { overlap: coll.overlap.bind(coll) } : {}),
    });
  }

  // losses are read back every step on the CPU, every 16 steps (and at each epoch's end) on CUDA
  const lossLog = stepper
    ? new LossLog<{ step: number; lr: number; start: number }>(device === 'cpu' ? 1 : 16, params.flatValues)
    : undefined;

  const losses: number[] = [];
  let lastLr = 0;
  // every rank stops on a non-finite loss; rank 0's message names its last good checkpoint
  const checkLoss = (loss: number, step: number, epoch: number, micro?: number) => {
    if (Number.isFinite(loss)) return;
    const where = `epoch ${epoch}${micro === undefined ? '' : `, micro-batch ${micro}`}`;
    throw outputs
      ? outputs.lossError(loss, step + 1, where)
      : new NonFiniteLossError(`loss is ${loss} at step ${step + 1} (${where}, rank ${rank}); stopping`);
  };
  const writeOutputs = async (record: EpochRecord) => {
    if (!outputs) return;
    const epoch = Math.floor(optim.step / stepsPerEpoch);
    const last = optim.step >= totalSteps || record.epoch + 1 === c.epochs;
    await outputs.save({ params, optim, epoch, record, snapshot: last || record.epoch % c.save_every === 0 });
    o.onEpoch?.(record);
    if (preview) await writePreview(model, mc, preview, c.seed, device, outputs.dir, c.mask_sampling);
  };

  try {
    while (optim.step < totalSteps) {
      const epoch = Math.floor(optim.step / stepsPerEpoch);
      const order = epochOrder(c.seed, epoch, train.length);
      const firstStep = optim.step - epoch * stepsPerEpoch;
      const feed = streamed?.feed(
        epoch,
        epochBatches(
          firstStep,
          Math.min(stepsPerEpoch, firstStep + totalSteps - optim.step),
          c.accum_iter,
          (it) => order.subarray(...shardRange(it, B, rank, world)),
        ),
      );
      let bad = 0;
      const loaderAtStart = streamed ? { ...streamed.loader.stats } : undefined;
      const take = async () => {
        const b = await feed!.take();
        bad += b.bad.length;
        for (const x of b.bad.slice(0, Math.max(0, 3 - (bad - b.bad.length))))
          log(`bad data: ${x.name}: ${x.reason} (sample ${x.index}; replaced by sample ${x.replacement})`);
        return b;
      };
      const t0 = performance.now();
      let epochLoss = 0;
      let epochSteps = 0;
      const finishStep = (loss: number, stepDone: number, lr: number, seconds: number, gradNorm?: number) => {
        lastLr = lr;
        losses.push(loss);
        outputs?.record({ step: stepDone, loss, lr });
        epochLoss += loss;
        epochSteps++;
        if (lead)
          o.onStep?.({
            step: stepDone,
            totalSteps,
            epoch,
            loss,
            lr,
            imagesPerSec: (B * c.accum_iter) / seconds,
            ...(feed ? { dataWait: feed.waited / Math.max((performance.now() - t0) / 1000, 1e-9) } : {}),
            ...(gradNorm === undefined ? {} : { gradNorm }),
          });
      };
      for (let st = optim.step - epoch * stepsPerEpoch; st < stepsPerEpoch && optim.step < totalSteps; st++) {
        const stepStart = performance.now();
        const step = optim.step;
        const lr = lrForIteration(schedule, epoch, st * c.accum_iter, itersUsed, c.accum_iter);
        let loss = 0;
        if (stepper && lossLog) {
          // the batch goes into the step's buffer; the step reads nothing else from the host, and
          // its loss stays on the device until the log is drained
          if (streamed) {
            const b = await take();
            releaseWhenCopied(stepper.loadImagesU8(b.pixels, norm!.mean, norm!.std), b.release);
          } else
            stepper.loadImages(
              batchArray(train as ImageDataset, order.subarray(...shardRange(st, B, rank, world))),
            );
          if (stepper.usesHostScores) stepper.loadScores(scoresOf(step, shardRowOffset(B, rank)));
          lossLog.record(stepper.run(), { step, lr, start: stepStart }, stepper.queue);
          if (lossLog.full || st === stepsPerEpoch - 1 || optim.step >= totalSteps) {
            const t = performance.now();
            const drained = await lossLog.drain();
            coll.check?.(); // a collective that failed in the background stops the run here
            for (const { loss: l, meta } of drained) {
              checkLoss(l, meta.step, epoch);
              finishStep(l, meta.step + 1, meta.lr, (t - drained[0]!.meta.start) / 1000 / drained.length);
            }
          }
          continue;
        }
        for (let k = 0; k < c.accum_iter; k++) {
          const it = st * c.accum_iter + k;
          const rows = shardRowOffset(B, k * world + rank);
          const noise = scoresOf(step, rows);
          const fed = streamed ? await take() : undefined;
          const micro = () => {
            const imgs = fed
              ? streamed!.toDevice(fed.pixels, fed.count, device)
              : batchTensor(train as ImageDataset, order.subarray(...shardRange(it, B, rank, world)), device);
            const l = model.forwardOnDevice(imgs, randomMasking(noise, B, L, mc.mask_ratio));
            model.backward(1 / c.accum_iter);
            accum.add(k);
            return l;
          };
          // each micro-step frees its batch and activations at once (not at GC)
          const lossT = freeAfter(micro, (l) => [l]);
          fed?.release();
          const microLoss = (await lossT.toArray())[0]!;
          lossT.dispose();
          if (world === 1) checkLoss(microLoss, step, epoch, k);
          loss += microLoss / c.accum_iter;
        }
        if (world > 1) {
          // the world's mean gradient, and its mean loss (what the official all_reduce_mean logs)
          await coll.allReduceMean(params.flatGrads);
          const l = Tensor.fromArray('f32', [1], [loss]);
          await coll.allReduceMean(l);
          loss = l.toArraySync()[0]!;
          checkLoss(loss, step, epoch);
        }
        const gradNorm = c.clip_grad ? await clipGradNorm(params, optim.trainable, c.clip_grad) : undefined;
        optim.update(lr);
        finishStep(loss, optim.step, lr, (performance.now() - stepStart) / 1000, gradNorm);
      }
      const seconds = (performance.now() - t0) / 1000;
      const partial = optim.step % stepsPerEpoch !== 0;
      await writeOutputs({
        epoch,
        steps: optim.step,
        loss: epochLoss / Math.max(epochSteps, 1),
        lr: lastLr,
        images_per_s: (epochSteps * B * c.accum_iter) / seconds,
        seconds,
        ...(feed
          ? {
              data_wait_s: feed.waited,
              loader_images_per_s: streamed!.loader.capacity(loaderAtStart),
              bad_samples: bad,
            }
          : {}),
        ...(partial ? { partial } : {}),
      });
    }
  } finally {
    stepper?.dispose(); // frees the CUDA graph and its memory
  }
  const checkpoint = join(c.output_dir, CHECKPOINT_FILE);
  return { steps: optim.step, losses, lr: lastLr, checkpoint, outputDir: c.output_dir, model, optim };
}
