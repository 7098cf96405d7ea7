// run.ts: main_finetune.py's loop: RandomResizedCrop + flip views (the linear probe's) with
// RandAugment and random erasing (timm's, as create_transform adds them), Mixup / CutMix with label
// smoothing (soft targets), the classifier with drop path, softmax cross-entropy on the soft
// targets, AdamW over the layer-decay groups with lr = blr * batch / 256, warm-up and half-cosine
// per iteration, drop_last batches; after each epoch top-1 and top-5 on the held-out images' centre
// crops (resize 256/224, centre crop), a line in log.jsonl, and the best model (by top-1) kept in
// checkpoint-best.safetensors (written to a temporary file, then renamed).
import { join } from 'node:path';
import { type DeviceSpec, ops, Tensor } from '@mae-cuda/native';
import { type EvalEpoch, epochSchedule, runEpochs } from '../eval/epochs.js';
import type { LabelledImages } from '../eval/images.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import { topKAccuracy } from '../linprobe/accuracy.js';
import { labelsTensor } from '../linprobe/run.js';
import { evalBatch, type TrainExtras, trainBatch } from '../linprobe/views.js';
import { NoiseCounter } from '../masking/device.js';
import { dropPathRates, type VitClassifier } from '../model/classifier.js';
import { empty } from '../model/layers.js';
import type { F32 } from '../model/params.js';
import { LayerDecayAdamW } from '../optim/layer_decay.js';
import { Streams } from '../rng/noise.js';
import type { ProgressUpdate } from '../train/progress.js';
import { firstTrainedBlock, type OptimGroup, type Trainable } from './groups.js';
import { drawMix, type MixupSettings, mixBatch } from './mixup.js';

export interface FinetuneSettings {
  epochs: number;
  warmupEpochs: number;
  blr: number;
  /** the absolute lr; else blr * batchSize / 256 */
  lr?: number;
  minLr: number;
  batchSize: number;
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
  /** what the checkpoint records besides the model (e.g. the command's settings) */
  record?: Record<string, unknown>;
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

/** One training step; resolves to the batch's mean loss. */
class Stepper {
  private readonly optim: LayerDecayAdamW;
  private readonly counter: NoiseCounter;
  private readonly rates: number[];
  private readonly firstBlock: number;
  private readonly dloss: F32;

  constructor(private readonly r: FinetuneRun) {
    const { model, settings: s } = r;
    this.optim = new LayerDecayAdamW(model.params, r.groups);
    this.counter = new NoiseCounter(s.seed, Streams.dropPath, 0, 0, s.device);
    this.rates = dropPathRates(s.dropPath, model.config.depth);
    this.firstBlock = firstTrainedBlock(s.trainable, model.config.depth);
    this.dloss = Tensor.fromArray('f32', [1], [1], s.device);
  }

  async step(imgs: F32, labels: Tensor<'i64'>, lr: number): Promise<number> {
    const { model, settings: s } = this.r;
    const [N, K, step] = [imgs.shape[0]!, model.classes, this.optim.step];
    const draw = drawMix(s.mix, s.seed, step, imgs.shape[2]!, imgs.shape[3]!);
    const { imgs: x, targets } = mixBatch(imgs, labels, K, draw, s.mix.smoothing);
    this.counter.set(Streams.dropPath, step, 0);
    const u = this.counter.noise(2 * model.config.depth, N);
    const logits = model.forward(x, { u, rates: this.rates });
    const [rows, lse, dlogits] = [empty([N], logits), empty([N], logits), empty([N, K], logits)];
    ops.soft_cross_entropy_forward(rows, lse, logits, targets);
    ops.soft_cross_entropy_backward(dlogits, logits, lse, targets, this.dloss);
    model.backward(dlogits, this.firstBlock);
    this.optim.update(lr);
    return (await rows.toFloat32Array()).reduce((a, b) => a + b, 0) / N;
  }
}

/** Fine-tunes the model; resolves to every epoch's record and the best one. */
export async function runFinetune(r: FinetuneRun): Promise<{ epochs: FinetuneEpoch[]; best: FinetuneEpoch }> {
  const s = r.settings;
  const stepper = new Stepper(r);
  return runEpochs({
    name: 'finetune',
    images: r.train.images.length,
    batchSize: s.batchSize,
    seed: s.seed,
    schedule: epochSchedule(s),
    outputDir: s.outputDir,
    step: async (idx, epoch, lr) => {
      const imgs = await trainBatch(r.train.images, idx, s.seed, epoch, s.device, s.augment);
      return stepper.step(imgs, labelsTensor(r.train.labels, idx, s.device), lr);
    },
    evaluate: () => evaluateClassifier(r),
    saveBest: (e, steps) => saveBest(r, e, steps),
    ...(r.onStep ? { onStep: r.onStep } : {}),
    ...(r.onEpoch ? { onEpoch: r.onEpoch } : {}),
  });
}

/** The classifier under models_vit's names, in a mae-cuda checkpoint (the model's configuration in it). */
async function saveBest(r: FinetuneRun, e: FinetuneEpoch, step: number): Promise<void> {
  const state = await r.model.params.toState();
  const model = Object.fromEntries(
    [...state].map(([name, t]) => [name, { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
  );
  await saveCheckpoint(
    join(r.settings.outputDir, 'checkpoint-best.safetensors'),
    {
      model,
      step,
      epoch: e.epoch,
      config: { model: r.model.config, classes: r.model.classes, pool: r.model.pool, ...r.record },
      extra: { top1: String(e.top1), top5: String(e.top5) },
    },
    { requireFinite: true },
  );
}
