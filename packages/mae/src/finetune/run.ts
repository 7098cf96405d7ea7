// run.ts: main_finetune.py's loop: RandomResizedCrop + flip views (the linear probe's) with
// RandAugment and random erasing (timm's, as create_transform adds them), Mixup / CutMix with label
// smoothing (soft targets), the classifier with drop path, softmax cross-entropy on the soft
// targets divided by accum_iter, gradients summed over accum_iter iterations, clipped to a global
// norm (--clip-grad, as NativeScaler's clip_grad_norm_), then AdamW over the layer-decay groups
// with lr = blr * batch * accum_iter / 256, warm-up and half-cosine per iteration, drop_last
// batches (eval/epochs.ts); after each epoch top-1 and top-5 on the held-out images' centre crops
// (resize 256/224, centre crop), a line in log.jsonl, the best model (by top-1) in
// checkpoint-best.safetensors and the state to resume from in checkpoint-last.safetensors
// (checkpoint.ts). The mixing draws and drop path's uniforms are keyed by (seed, iteration of the
// run), the views by (seed, epoch, image), so a resumed run is the uninterrupted one.
import { type DeviceSpec, ops, Tensor } from '@mae-cuda/native';
import {
  type EvalEpoch,
  epochSchedule,
  type Iteration,
  runEpochs,
  type ScheduleSettings,
} from '../eval/epochs.js';
import type { LabelledImages } from '../eval/images.js';
import type { Resumed } from '../eval/resume.js';
import { topKAccuracy } from '../linprobe/accuracy.js';
import { labelsTensor } from '../linprobe/run.js';
import { evalBatch, type TrainExtras, trainBatch } from '../linprobe/views.js';
import { NoiseCounter } from '../masking/device.js';
import { dropPathRates, type VitClassifier } from '../model/classifier.js';
import { empty } from '../model/layers.js';
import type { F32 } from '../model/params.js';
import { LayerDecayAdamW } from '../optim/layer_decay.js';
import { Streams } from '../rng/noise.js';
import { clipGradNorm, GradAccumulator } from '../train/grads.js';
import type { ProgressUpdate } from '../train/progress.js';
import { restoredMoments, restoreOptimizer } from '../train/state.js';
import { saveBestClassifier, saveLastClassifier } from './checkpoint.js';
import { firstTrainedBlock, type OptimGroup, type Trainable } from './groups.js';
import { drawMix, type MixupSettings, mixBatch } from './mixup.js';

/**
 * The schedule's flags (eval/epochs.ts; accumIter: iterations whose gradients are summed for one
 * update, the loss divided by it), and the rest.
 */
export interface FinetuneSettings extends ScheduleSettings {
  /** the global gradient norm the update clips to (none when absent) */
  clipGrad?: number | undefined;
  dropPath: number;
  mix: MixupSettings;
  /** RandAugment and random erasing of the training view (none when absent) */
  augment?: TrainExtras;
  trainable: Trainable;
  seed: number;
  device: DeviceSpec;
  outputDir: string;
}

/** An epoch's record (a line of log.jsonl). */
export type FinetuneEpoch = EvalEpoch;

export interface FinetuneRun {
  model: VitClassifier;
  groups: readonly OptimGroup[];
  train: LabelledImages;
  test: LabelledImages;
  settings: FinetuneSettings;
  /** what the checkpoints record besides the model (e.g. the command's settings) */
  record?: Record<string, unknown>;
  /** checkpoint-last's state when resuming (eval/resume.ts) */
  resume?: Resumed | undefined;
  onStep?: (u: ProgressUpdate) => void;
  onEpoch?: (e: FinetuneEpoch) => void;
}

/** Top-1 and top-5 of the model (eval mode: no drop path) on the held-out images. */
export async function evaluateClassifier(r: FinetuneRun): Promise<[number, number]> {
  const { images, labels } = r.test;
  const K = r.model.classes;
  const logits = new Float32Array(images.length * K);
  for (let at = 0; at < images.length; at += r.settings.batchSize) {
    const idx = Array.from({ length: Math.min(r.settings.batchSize, images.length - at) }, (_, k) => at + k);
    logits.set(await r.model.forward(evalBatch(images, idx, r.settings.device)).toFloat32Array(), at * K);
  }
  const [top1, top5] = topKAccuracy(logits, labels, K, [1, 5]);
  return [top1!, top5!];
}

/** The iterations and updates of fine-tuning. */
export class FinetuneStepper {
  readonly optim: LayerDecayAdamW;
  private readonly accum: GradAccumulator;
  private readonly counter: NoiseCounter;
  private readonly rates: number[];
  private readonly firstBlock: number;
  private readonly dloss: F32;

  constructor(private readonly r: FinetuneRun) {
    const { model, settings: s } = r;
    this.optim = new LayerDecayAdamW(model.params, r.groups);
    if (r.resume) restoreOptimizer(this.optim, restoredMoments(r.resume.read, this.optim.trainable));
    this.accum = new GradAccumulator(model.params, this.optim.trainable, s.accumIter ?? 1);
    this.counter = new NoiseCounter(s.seed, Streams.dropPath, 0, 0, s.device);
    this.rates = dropPathRates(s.dropPath, model.config.depth);
    this.firstBlock = firstTrainedBlock(s.trainable, model.config.depth);
    this.dloss = Tensor.fromArray('f32', [1], [1 / (s.accumIter ?? 1)], s.device);
  }

  /** Forward and backward of one iteration (gradients summed over its window); its mean loss. */
  async micro(imgs: F32, labels: Tensor<'i64'>, it: Iteration): Promise<number> {
    const { model, settings: s } = this.r;
    const [N, K] = [imgs.shape[0]!, model.classes];
    const draw = drawMix(s.mix, s.seed, it.index, imgs.shape[2]!, imgs.shape[3]!);
    const { imgs: x, targets } = mixBatch(imgs, labels, K, draw, s.mix.smoothing);
    this.counter.set(Streams.dropPath, it.index, 0);
    const u = this.counter.noise(2 * model.config.depth, N);
    const logits = model.forward(x, { u, rates: this.rates });
    const [rows, lse, dlogits] = [empty([N], logits), empty([N], logits), empty([N, K], logits)];
    ops.soft_cross_entropy_forward(rows, lse, logits, targets);
    ops.soft_cross_entropy_backward(dlogits, logits, lse, targets, this.dloss);
    model.backward(dlogits, this.firstBlock);
    this.accum.add(it.k);
    return (await rows.toFloat32Array()).reduce((a, b) => a + b, 0) / N;
  }

  /** The window's update: the gradients clipped (with --clip-grad), then AdamW at lr. */
  async update(lr: number): Promise<void> {
    const clip = this.r.settings.clipGrad;
    if (clip !== undefined) await clipGradNorm(this.r.model.params, this.optim.trainable, clip);
    this.optim.update(lr);
  }
}

/** Fine-tunes the model; resolves to this run's epochs and the best one. */
export async function runFinetune(
  r: FinetuneRun,
): Promise<{ epochs: FinetuneEpoch[]; best?: FinetuneEpoch }> {
  const s = r.settings;
  const stepper = new FinetuneStepper(r);
  const o = { trainable: s.trainable, ...(r.record ? { extra: r.record } : {}) };
  return runEpochs({
    name: 'finetune',
    images: r.train.images.length,
    batchSize: s.batchSize,
    accumIter: s.accumIter ?? 1,
    seed: s.seed,
    schedule: epochSchedule(s),
    outputDir: s.outputDir,
    start: r.resume?.start,
    micro: async (idx, it) => {
      const imgs = await trainBatch(r.train.images, idx, s.seed, it.epoch, s.device, s.augment);
      return stepper.micro(imgs, labelsTensor(r.train.labels, idx, s.device), it);
    },
    update: (lr) => stepper.update(lr),
    evaluate: () => evaluateClassifier(r),
    saveBest: (e, step) => saveBestClassifier(s.outputDir, r.model, { ...o, e, step }),
    saveLast: (e, best) => saveLastClassifier(s.outputDir, r.model, stepper.optim, { ...o, e, best }),
    ...(r.onStep ? { onStep: r.onStep } : {}),
    ...(r.onEpoch ? { onEpoch: r.onEpoch } : {}),
  });
}
