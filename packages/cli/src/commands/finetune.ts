// commands/finetune.ts: `mae-cuda finetune --finetune C [--data mnist]`: end-to-end fine-tuning as
// the official main_finetune.py: the models_vit classifier (global pool + fc_norm, or --cls-token)
// from a pretrained checkpoint (its decoder dropped, the position embedding interpolated for another
// --input-size), RandAugment (--aa) and random erasing (--reprob, --remode, --recount) as timm
// 0.3.2's create_transform adds them, drop path, Mixup / CutMix and label smoothing, AdamW with
// layer-wise lr decay, warm-up + cosine, gradient accumulation (--accum-iter) and clipping
// (--clip-grad); partial fine-tuning of the last k blocks or of the last block's MLP; top-1/top-5
// on held-out centre crops per epoch (printed and in log.jsonl), the best model kept,
// checkpoint-last written every epoch and continued by --resume (an output dir holding one is
// refused without --resume auto or --overwrite). Exit 2 for input it cannot use (checked before
// any training).
import {
  type ClassifierState,
  classifierFromCheckpoint,
  DEFAULT_AA,
  ERASE_MODES,
  type ModelState,
  openProbeData,
  ParamStore,
  type ProbeData,
  paramGroupsLrd,
  parseRandAugment,
  type Resumed,
  randomClassifierState,
  resumeClassifier,
  runFinetune,
  storeGroups,
  type Trainable,
  VitClassifier,
} from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import {
  deviceOption,
  epochReport,
  labelledDataOptions,
  labelledDataSettings,
  planResume,
  prepareOutput,
  refusingBadInput,
  reportResume,
  resumeOptions,
} from '../eval/options.js';
import { intOption, MAX_BATCH, numberOption } from '../numbers.js';

const unit = numberOption({ min: 0, max: 1 });

export const options = z.strictObject({
  finetune: z
    .string({
      message: 'give the pretrained model: --finetune FILE (ours, an official .pth, or an HF folder)',
    })
    .describe('a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder'),
  ...labelledDataOptions,
  inputSize: intOption({ min: 1, max: 4096 })
    .optional()
    .describe("the model's input size (default the checkpoint's)"),
  epochs: intOption({ min: 1, max: 100000 }).default(10),
  warmupEpochs: numberOption({ min: 0 }).default(1),
  blr: numberOption({ positive: true }).default(1e-3).describe('lr = blr * batch / 256'),
  lr: numberOption({ positive: true }).optional().describe('the absolute lr (instead of --blr)'),
  minLr: numberOption({ min: 0 }).default(1e-6),
  batchSize: intOption({ min: 1, max: MAX_BATCH }).default(64),
  clipGrad: numberOption({ positive: true })
    .optional()
    .describe("clip the trained parameters' global gradient norm to this"),
  weightDecay: numberOption({ min: 0 }).default(0.05),
  layerDecay: numberOption({ positive: true, max: 1 })
    .default(0.75)
    .describe('0.65 for ViT-B, 0.75 for ViT-L'),
  dropPath: numberOption({ min: 0, max: 0.99 }).default(0.1),
  smoothing: unit.default(0.1).describe('label smoothing'),
  mixup: numberOption({ min: 0 }).default(0).describe("mixup's Beta alpha (0.8 in the official recipe)"),
  cutmix: numberOption({ min: 0 }).default(0).describe("cutmix's Beta alpha (1.0 in the official recipe)"),
  mixupProb: unit.default(1).describe('the probability of mixing a batch'),
  mixupSwitchProb: unit.default(0.5).describe('the probability of cutmix when both are on'),
  aa: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseRandAugment(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    })
    .default(DEFAULT_AA)
    .describe("RandAugment as timm's rand_augment_transform, or none"),
  reprob: unit.default(0.25).describe('the probability of random erasing an image'),
  remode: z.enum(ERASE_MODES).default('pixel').describe("random erasing's values"),
  recount: intOption({ min: 1, max: 100 }).default(1).describe('the most random erasing boxes per image'),
  clsToken: z
    .boolean()
    .default(false)
    .describe('classify the cls token (through norm) instead of the global pool'),
  trainableBlocks: intOption({ min: 0, max: 100000 })
    .optional()
    .describe('train only the last k blocks (+ the final norm and head)'),
  trainable: z
    .enum(['all', 'mlp-last'])
    .default('all')
    .describe("mlp-last: only the last block's MLP (+ norm and head)"),
  randomInit: z
    .boolean()
    .default(false)
    .describe("the checkpoint's architecture at random initialisation (from scratch)"),
  seed: intOption({ min: 0, max: 2 ** 32 - 1 }).default(0),
  device: deviceOption,
  outputDir: z.string().default('runs/finetune'),
  ...resumeOptions,
});

type Options = z.infer<typeof options>;

/** The flags that do not need the checkpoint or the data, checked first. */
function checkFlags(o: Options): Trainable {
  if (o.epochs <= o.warmupEpochs)
    throw new RangeError(`--epochs ${o.epochs} must be greater than --warmup-epochs ${o.warmupEpochs}`);
  if ((o.mixup > 0 || o.cutmix > 0) && o.batchSize % 2 !== 0)
    throw new RangeError(
      `--batch-size ${o.batchSize} must be even with --mixup or --cutmix (the batch is mixed with itself flipped)`,
    );
  if (o.trainableBlocks !== undefined && o.trainable !== 'all')
    throw new RangeError('give --trainable-blocks or --trainable mlp-last, not both');
  if (o.trainableBlocks !== undefined) return { kind: 'blocks', k: o.trainableBlocks };
  return o.trainable === 'mlp-last' ? { kind: 'mlp-last' } : { kind: 'all' };
}

/** Settings a resumed run does not compare: the model's shape (refused when it differs) and the start. */
const UNCOMPARED = [
  'finetune',
  'source',
  'inputSize',
  'clsToken',
  'trainableBlocks',
  'trainable',
  'randomInit',
];

interface Start {
  state: ModelState;
  resumed?: Resumed;
}

/** The classifier's starting weights: checkpoint-last's when resuming, else fresh. */
async function startState(
  o: Options,
  probe: ClassifierState,
  data: ProbeData,
  trainable: Trainable,
  resume: string | undefined,
): Promise<Start> {
  const { config } = probe;
  const pool = o.clsToken ? 'cls' : 'global';
  const head = {
    classes: data.classes,
    pool,
    seed: o.seed,
    ...(o.inputSize ? { inputSize: o.inputSize } : {}),
  } as const;
  if (resume) {
    const modelFlag = `--finetune ${o.finetune}${o.inputSize ? ` --input-size ${o.inputSize}` : ''}`;
    const resumed = await resumeClassifier(resume, {
      config,
      classes: data.classes,
      pool,
      trainable,
      modelFlag,
    });
    reportResume(resumed, resumed.read.meta.finetune, { ...o, source: o.finetune }, UNCOMPARED);
    return { state: resumed.read.state, resumed };
  }
  const state = o.randomInit
    ? randomClassifierState(config, head)
    : (await classifierFromCheckpoint(o.finetune, head)).state;
  return { state };
}

async function run(o: Options): Promise<number> {
  const trainable = checkFlags(o);
  const randAugment = parseRandAugment(o.aa);
  const device = o.device as DeviceSpec;
  const pool = o.clsToken ? 'cls' : 'global';
  const plan = await planResume(o); // before any work: the output folder is never taken silently
  if (plan.message) console.log(plan.message);
  const shape = {
    classes: 2,
    pool,
    seed: o.seed,
    ...(o.inputSize ? { inputSize: o.inputSize } : {}),
  } as const;
  const probe = await classifierFromCheckpoint(o.finetune, shape); // checks the checkpoint before the data
  const { config } = probe;
  if (trainable.kind === 'blocks' && trainable.k > config.depth)
    throw new RangeError(`--trainable-blocks ${trainable.k}: the model has ${config.depth} blocks`);
  const data = await openProbeData(o.data, config, labelledDataSettings(o, o.seed));
  const { state, resumed } = await startState(o, probe, data, trainable, plan.resume);
  const groups = paramGroupsLrd(state, {
    depth: config.depth,
    weightDecay: o.weightDecay,
    layerDecay: o.layerDecay,
    trainable,
  });
  const params = new ParamStore(state, device, 'f32', storeGroups(groups, [...state.keys()]));
  const model = new VitClassifier(config, data.classes, pool, params);
  describeRun(o, trainable, probe, data, randAugment !== undefined);
  prepareOutput(o, plan, console.log);
  const report = epochReport();
  const { best } = await runFinetune({
    model,
    groups,
    ...data,
    settings: {
      epochs: o.epochs,
      warmupEpochs: o.warmupEpochs,
      blr: o.blr,
      ...(o.lr !== undefined ? { lr: o.lr } : {}),
      minLr: o.minLr,
      batchSize: o.batchSize,
      accumIter: o.accumIter,
      clipGrad: o.clipGrad,
      dropPath: o.dropPath,
      mix: {
        mixup: o.mixup,
        cutmix: o.cutmix,
        prob: o.mixupProb,
        switchProb: o.mixupSwitchProb,
        smoothing: o.smoothing,
      },
      augment: {
        ...(randAugment ? { randAugment } : {}),
        erasing: { prob: o.reprob, mode: o.remode, maxCount: o.recount },
      },
      trainable,
      seed: o.seed,
      device,
      outputDir: o.outputDir,
    },
    record: { finetune: { ...o, source: o.finetune } },
    resume: resumed,
    onStep: report.onStep,
    onEpoch: report.onEpoch,
  });
  if (best) report.best(best);
  return 0;
}

/** The run's first lines: the model, the data, the training view. */
function describeRun(
  o: Options,
  trainable: Trainable,
  probe: ClassifierState,
  data: ProbeData,
  aa: boolean,
): void {
  const what =
    trainable.kind === 'all'
      ? 'all'
      : trainable.kind === 'blocks'
        ? `the last ${trainable.k} blocks`
        : "the last block's MLP";
  const grid = probe.interpolated;
  console.log(
    `finetune (${o.clsToken ? 'cls token' : 'global pool'}, training ${what}${o.randomInit ? `, random init (seed ${o.seed})` : ''}` +
      `${grid ? `, position embedding ${grid[0]}x${grid[0]} -> ${grid[1]}x${grid[1]}` : ''}) ` +
      `on ${o.data}: ${data.train.images.length} train / ${data.test.images.length} held-out images (${data.heldOut}), ` +
      `${data.classes} classes, batch ${o.batchSize} x ${o.accumIter}, device ${o.device} -> ${o.outputDir}`,
  );
  const boxes = o.recount === 1 ? '1 box' : `1-${o.recount} boxes`;
  console.log(
    `training view: crop + flip, ${aa ? `RandAugment ${o.aa}` : 'no RandAugment'}, ` +
      `${o.reprob > 0 ? `random erasing ${o.reprob} (${o.remode}, ${boxes})` : 'no random erasing'}`,
  );
}

export const finetuneCommand = defineCommand({
  name: 'finetune',
  summary:
    'fine-tune the encoder as a classifier (layer decay, drop path, mixup/cutmix), as main_finetune.py',
  usage: `mae-cuda finetune --finetune C [--data mnist|<image source>] [--val-data SRC | --val-fraction 0.1]
    [--train N] [--test M] [--input-size S] [--epochs 10] [--warmup-epochs 1] [--blr 1e-3 | --lr LR]
    [--min-lr 1e-6] [--batch-size 64] [--accum-iter 1] [--clip-grad X] [--weight-decay 0.05]
    [--layer-decay 0.75] [--drop-path 0.1] [--smoothing 0.1] [--mixup 0] [--cutmix 0] [--mixup-prob 1]
    [--mixup-switch-prob 0.5] [--aa rand-m9-mstd0.5-inc1|none] [--reprob 0.25] [--remode pixel|rand|const]
    [--recount 1] [--cls-token] [--trainable-blocks k | --trainable all|mlp-last] [--random-init] [--seed 0]
    [--device cpu|cuda[:N]] [--output-dir runs/finetune] [--resume FILE | --resume auto | --overwrite]
  C: a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder (the decoder is dropped; the
  position embedding is interpolated bicubically for another --input-size). The official ViT-B recipe:
  --epochs 100 --warmup-epochs 5 --blr 5e-4 --layer-decay 0.65 --drop-path 0.1 --mixup 0.8 --cutmix 1.0
  (batch 1024: e.g. --batch-size 32 --accum-iter 32 on one GPU). --accum-iter N sums the gradients of N
  batches (the loss divided by N) for one update: lr = blr x batch x N / 256. --clip-grad X clips the
  trained parameters' global gradient norm to X before each update (torch's clip_grad_norm_).
  The training view is RandomResizedCrop + flip, then RandAugment (--aa, timm 0.3.2's rand-m<M>[-n<N>]
  [-mstd<S>][-inc1]: N ops of magnitude M +- S, each with probability 0.5; none turns it off), then
  after the normalisation random erasing (--reprob of the images, --recount boxes of 2-33% of the
  area, --remode pixel: normal noise per value, rand: per channel, const: 0); all as the official
  defaults (--aa rand-m9-mstd0.5-inc1 --reprob 0.25 --remode pixel --recount 1).
  MNIST: the first N digits train (5000) and the last M are held out (1000). Writes log.jsonl (one
  line per epoch: loss, lr, top-1, top-5), checkpoint-best.safetensors (the model of the best top-1)
  and, every epoch, checkpoint-last.safetensors (the model, AdamW's moments, the best so far):
  --resume FILE continues it at the next epoch exactly as an uninterrupted run; --resume auto
  continues the output dir's when there is one. An output dir that holds a checkpoint-last is never
  replaced silently: give --resume auto, or --overwrite to start over. A resumed run refuses another
  model, --input-size, --cls-token, trained part or class count.`,
  options,
  run: (o) => refusingBadInput('finetune', () => run(o)),
});
