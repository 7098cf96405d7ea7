// trainer.ts: the pretraining loop of the official engine_pretrain.py on our model. Per optimiser
// step: accum_iter micro-batches of batch_size images in the epoch's seeded order, the lr of the
// schedule set at the window's first iteration, masking noise keyed by (seed, optimiser step,
// row of the window) so a window of 2 x B/2 masks exactly as one batch of B, backward scaled by
// 1/accum_iter into the accumulation buffers, optional clipping, then AdamW. A non-finite loss
// stops the run before the update (the last checkpoint stays as it was). At each epoch's end and
// when the run stops: checkpoint-last.safetensors, a log.jsonl line, reconstructions.png, loss.png.
// Epochs use floor(images / batch_size) micro-batches (drop_last, as the official loader) rounded
// down to whole accumulation windows, so every epoch has the same number of steps and a resumed
// run (which recomputes its place from the step) sees the same data, noise and lr as an
// uninterrupted one.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DeviceSpec, freeAfter, Tensor } from '@mae-cuda/native';
import { type MaeConfig, numPatches } from '../config/model.js';
import type { ImageDataset } from '../data/dataset.js';
import { batchArray, batchTensor, epochOrder } from '../data/loader.js';
import { type Collective, single } from '../dist/collective.js';
import { shardRange, shardRowOffset } from '../dist/shard.js';
import { initialState } from '../init/state.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { NoiseCounter } from '../masking/device.js';
import { randomMasking } from '../masking/random_masking.js';
import { MaskedAutoencoder } from '../model/mae.js';
import { ParamStore } from '../model/params.js';
import { resolvePrecision } from '../model/plan.js';
import { AdamW, DEFAULT_ADAMW } from '../optim/adamw.js';
import { batchNoise, Streams } from '../rng/noise.js';
import { lrForIteration } from '../schedule/lr.js';
import { lossPlot } from '../viz/plot.js';
import { encodePng } from '../viz/png.js';
import type { PretrainConfig } from './config.js';
import { clipGradNorm, GradAccumulator } from './grads.js';
import { writePreview } from './preview.js';
import type { ProgressUpdate } from './progress.js';
import { PretrainSetupError, runPlan } from './run_plan.js';
import { loadTrainingState, restoreOptimizer, saveTrainingState } from './state.js';
import { LossLog, TrainStep } from './step.js';

export const CHECKPOINT_FILE = 'checkpoint-last.safetensors';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

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
}

export interface PretrainOptions {
  config: PretrainConfig;
  model: MaeConfig;
  train: ImageDataset;
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

const TRAIN_KEYS = [
  'batch_size',
  'accum_iter',
  'seed',
  'limit',
  'data',
  'epochs',
  'blr',
  'lr',
  'min_lr',
] as const;

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const { config: c, model: mc, train } = o;
  const log = o.log ?? (() => {});
  const device = c.device as DeviceSpec;
  const [C, H, W] = train.shape;
  if (C !== mc.in_chans)
    throw new PretrainSetupError(
      'model',
      `the dataset's images have ${C} channels; the model takes ${mc.in_chans}`,
    );
  if (H !== mc.img_size || W !== mc.img_size)
    throw new PretrainSetupError(
      'input_size',
      `the dataset's images are ${H}x${W}; input_size is ${mc.img_size} (resizing is not supported)`,
    );
  const coll = o.collective ?? single();
  const { rank, world } = coll;
  const lead = rank === 0; // writes the files, logs and reports
  const plan = runPlan(c, train.length, world);
  const { stepsPerEpoch, itersUsed, schedule, totalSteps } = plan;
  const out = c.output_dir;
  if (lead) mkdirSync(out, { recursive: true });
  const ckptPath = join(out, CHECKPOINT_FILE);
  const meta = {
    model: mc,
    train: c,
    dataset: { name: train.name, images: train.length },
    steps_per_epoch: stepsPerEpoch,
    world_size: world,
  };

  // model and optimiser, fresh or from a checkpoint
  let params: ParamStore;
  let optim: AdamW;
  const adamw = { ...DEFAULT_ADAMW, weightDecay: c.weight_decay };
  if (c.resume && lead) {
    const probe = new AdamW(new ParamStore(initialState(mc, c.seed), 'cpu'), adamw);
    const r = await loadTrainingState(c.resume, mc, probe.trainable);
    params = new ParamStore(r.state, device);
    optim = new AdamW(params, adamw);
    restoreOptimizer(optim, r);
    const was = (r.meta as { train?: Record<string, unknown> }).train ?? {};
    const changed = TRAIN_KEYS.filter((k) => k in was && JSON.stringify(was[k]) !== JSON.stringify(c[k]));
    if (changed.length)
      log(
        `warning: ${changed.join(', ')} differ from the checkpoint's run; the losses will not match an uninterrupted run`,
      );
    log(`resumed from ${c.resume} at step ${optim.step} (epoch ${Math.floor(optim.step / stepsPerEpoch)})`);
  } else {
    params = new ParamStore(initialState(mc, c.seed), device);
    optim = new AdamW(params, adamw);
  }
  if (world > 1) {
    // every rank starts from rank 0's weights, moments and step (rank 0 alone read a checkpoint)
    await coll.broadcast(params.flatValues);
    await coll.broadcast(optim.flatM);
    await coll.broadcast(optim.flatV);
    const step = Tensor.fromArray('i32', [1], [optim.step]);
    await coll.broadcast(step);
    optim.step = step.toArraySync()[0]!;
  }
  if (lead) writeFileSync(join(out, 'config.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const model = new MaskedAutoencoder(mc, params, resolvePrecision(c.precision, device));
  const accum = new GradAccumulator(params, optim.trainable, c.accum_iter);
  const L = numPatches(mc);
  const B = c.batch_size;

  // the whole-step path (device masking, device lr schedule; a CUDA graph on CUDA) whenever the
  // step has no host decisions in it: one micro-batch per step and no clipping
  const lrOf = (step: number) => {
    const e = Math.floor(step / stepsPerEpoch);
    return lrForIteration(schedule, e, (step - e * stepsPerEpoch) * c.accum_iter, itersUsed, c.accum_iter);
  };
  let stepper: TrainStep | undefined;
  let eagerRuns = 0;
  const enqueueMean = coll.enqueueMean?.bind(coll);
  if (
    c.accum_iter === 1 &&
    c.clip_grad === undefined &&
    (world === 1 || enqueueMean) &&
    optim.step < totalSteps
  ) {
    const from = optim.step;
    optim.setSchedule(
      Float64Array.from({ length: totalSteps - from }, (_, k) => lrOf(from + k)),
      from,
    );
    const counter = new NoiseCounter(c.seed, Streams.maskNoise, optim.step, shardRowOffset(B, rank), device);
    stepper = new TrainStep(model, optim, counter, B, {
      graph: c.cuda_graph,
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
  let savedStep = c.resume ? optim.step : -1;
  const checkLoss = (loss: number, step: number, epoch: number, micro?: number) => {
    if (!Number.isFinite(loss))
      throw new NonFiniteLossError(
        `loss is ${loss} at step ${step + 1} (epoch ${epoch}${micro === undefined ? '' : `, micro-batch ${micro}`}); stopping. ` +
          (savedStep >= 0
            ? `The last checkpoint, ${ckptPath} (step ${savedStep}), is intact.`
            : 'No checkpoint was written yet.'),
      );
  };
  const writeOutputs = async (record: EpochRecord) => {
    if (!lead) return;
    await saveTrainingState(ckptPath, params, optim, Math.floor(optim.step / stepsPerEpoch), meta);
    savedStep = optim.step;
    appendFileSync(join(out, 'log.jsonl'), `${JSON.stringify(record)}\n`);
    o.onEpoch?.(record);
    if (o.preview && o.preview.length > 0) await writePreview(model, mc, o.preview, c.seed, device, out);
    if (losses.length > 0) await writeFileAtomic(join(out, 'loss.png'), encodePng(lossPlot(losses)));
  };

  try {
    while (optim.step < totalSteps) {
      const epoch = Math.floor(optim.step / stepsPerEpoch);
      const order = epochOrder(c.seed, epoch, train.length);
      const t0 = performance.now();
      let epochLoss = 0;
      let epochSteps = 0;
      const finishStep = (loss: number, stepDone: number, lr: number, seconds: number, gradNorm?: number) => {
        lastLr = lr;
        losses.push(loss);
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
          stepper.loadImages(batchArray(train, order.subarray(...shardRange(st, B, rank, world))));
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
          const noise = batchNoise(c.seed, Streams.maskNoise, step, B, L, rows);
          const micro = () => {
            const imgs = batchTensor(train, order.subarray(...shardRange(it, B, rank, world)), device);
            const l = model.forwardOnDevice(imgs, randomMasking(noise, B, L, mc.mask_ratio));
            model.backward(1 / c.accum_iter);
            accum.add(k);
            return l;
          };
          // after the first, each micro-step frees its batch and activations at once (not at GC)
          const lossT = eagerRuns++ === 0 ? micro() : freeAfter(micro, (l) => [l]);
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
        ...(partial ? { partial } : {}),
      });
    }
  } finally {
    stepper?.dispose(); // frees the CUDA graph and its memory
  }
  return { steps: optim.step, losses, lr: lastLr, checkpoint: ckptPath, outputDir: out, model, optim };
}
