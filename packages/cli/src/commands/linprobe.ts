// commands/linprobe.ts: `mae-cuda linprobe --checkpoint C [--data mnist]`: linear probing as the
// official main_linprobe.py: the encoder frozen (the cls token's features, or --global-pool),
// BatchNorm1d(affine=False) + a linear head trained by LARS on RandomResizedCrop + flip views,
// top-1/top-5 on held-out centre crops per epoch (printed and in log.jsonl), the best head kept,
// gradient accumulation (--accum-iter), checkpoint-last written every epoch and continued by
// --resume (an output dir holding one is refused without --resume auto or --overwrite).
// Exit 2 for input it cannot use (checked before any training).
import {
  modelFromCheckpoint,
  openProbeData,
  ProbeHead,
  type Resumed,
  randomInitModel,
  resumeHead,
  runLinprobe,
} from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import {
  checkpointOption,
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

export const options = z.strictObject({
  checkpoint: checkpointOption,
  ...labelledDataOptions,
  epochs: intOption({ min: 1, max: 100000 }).default(10),
  warmupEpochs: numberOption({ min: 0 }).default(1),
  blr: numberOption({ positive: true }).default(0.1).describe('lr = blr * batch / 256'),
  lr: numberOption({ positive: true }).optional().describe('the absolute lr (instead of --blr)'),
  minLr: numberOption({ min: 0 }).default(0),
  batchSize: intOption({ min: 2, max: MAX_BATCH }).default(256),
  weightDecay: numberOption({ min: 0 }).default(0),
  globalPool: z
    .boolean()
    .default(false)
    .describe("the patch tokens' mean through fc_norm, not the cls token"),
  seed: intOption({ min: 0, max: 2 ** 32 - 1 }).default(0),
  randomInit: z
    .boolean()
    .default(false)
    .describe("probe the checkpoint's architecture at random initialisation (seeded by --seed) instead"),
  device: deviceOption,
  outputDir: z.string().default('runs/linprobe'),
  ...resumeOptions,
});

type Options = z.infer<typeof options>;

/** Settings a resumed run does not compare: the features' pool (refused when it differs). */
const UNCOMPARED = ['globalPool'];

async function run(o: Options): Promise<number> {
  if (o.epochs <= o.warmupEpochs)
    throw new RangeError(`--epochs ${o.epochs} must be greater than --warmup-epochs ${o.warmupEpochs}`);
  const device = o.device as DeviceSpec;
  const plan = await planResume(o); // before any work: the output folder is never taken silently
  if (plan.message) console.log(plan.message);
  const loaded = await modelFromCheckpoint(o.checkpoint, { device });
  const { config } = loaded;
  const model = o.randomInit ? randomInitModel(config, o.seed, device) : loaded.model;
  const data = await openProbeData(o.data, config, labelledDataSettings(o, o.seed));
  const pool = o.globalPool ? 'global' : 'cls';
  let resume: { head: ProbeHead; from: Resumed } | undefined;
  if (plan.resume) {
    const head = new ProbeHead(config.embed_dim, data.classes, o.seed, device);
    const modelFlag = `--checkpoint ${o.checkpoint}`;
    const from = await resumeHead(plan.resume, head, {
      model: config,
      classes: data.classes,
      pool,
      modelFlag,
    });
    reportResume(from, from.read.meta.linprobe, o, UNCOMPARED);
    resume = { head, from };
  }
  console.log(
    `linprobe (${pool === 'cls' ? 'cls token' : 'global pool'}${o.randomInit ? `, random init (seed ${o.seed})` : ''}) on ${o.data}: ${data.train.images.length} train / ` +
      `${data.test.images.length} held-out images (${data.heldOut}), ${data.classes} classes, ` +
      `batch ${o.batchSize} x ${o.accumIter}, device ${o.device} -> ${o.outputDir}`,
  );
  prepareOutput(o, plan, console.log);
  const report = epochReport();
  const { best } = await runLinprobe({
    model,
    ...data,
    settings: {
      epochs: o.epochs,
      warmupEpochs: o.warmupEpochs,
      blr: o.blr,
      ...(o.lr !== undefined ? { lr: o.lr } : {}),
      minLr: o.minLr,
      batchSize: o.batchSize,
      accumIter: o.accumIter,
      weightDecay: o.weightDecay,
      pool,
      seed: o.seed,
      device,
      outputDir: o.outputDir,
    },
    record: { linprobe: o },
    resume,
    onStep: report.onStep,
    onEpoch: report.onEpoch,
  });
  if (best) report.best(best);
  return 0;
}

export const linprobeCommand = defineCommand({
  name: 'linprobe',
  summary: 'linear probe of the frozen encoder (BatchNorm + linear head, LARS), as main_linprobe.py',
  usage: `mae-cuda linprobe --checkpoint C [--data mnist|<image source>] [--val-data SRC | --val-fraction 0.1]
    [--train N] [--test M] [--epochs 10] [--warmup-epochs 1] [--blr 0.1 | --lr LR] [--min-lr 0]
    [--batch-size 256] [--accum-iter 1] [--weight-decay 0] [--global-pool] [--random-init] [--seed 0]
    [--device cpu|cuda[:N]] [--output-dir runs/linprobe] [--resume FILE | --resume auto | --overwrite]
  C: a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder. MNIST: the first N digits
  train (5000) and the last M of the class-balanced first 8630 are held out (1000); an idx or CIFAR
  folder: its test split. --accum-iter N sums the gradients of N batches (the loss divided by N) for
  one LARS step: lr = blr x batch x N / 256. Writes log.jsonl (one line per epoch: loss, lr, top-1,
  top-5), checkpoint-best.safetensors (the head of the best top-1) and, every epoch,
  checkpoint-last.safetensors (the head, LARS's buffers, the best so far): --resume FILE continues
  it at the next epoch exactly as an uninterrupted run; --resume auto continues the output dir's
  when there is one. An output dir that holds a checkpoint-last is never replaced silently: give
  --resume auto, or --overwrite to start over. A resumed run refuses another encoder architecture,
  class count or --global-pool.`,
  options,
  run: (o) => refusingBadInput('linprobe', () => run(o)),
});
