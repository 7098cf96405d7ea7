// commands/linprobe.ts: `mae-cuda linprobe --checkpoint C [--data mnist]`: linear probing as the
// official main_linprobe.py: the encoder frozen (the cls token's features, or --global-pool),
// BatchNorm1d(affine=False) + a linear head trained by LARS on RandomResizedCrop + flip views,
// top-1/top-5 on held-out centre crops per epoch (printed and in log.jsonl), the best head kept.
// Exit 2 for input it cannot use (checked before any training).
import {
  modelFromCheckpoint,
  openProbeData,
  type ProbeEpoch,
  ProgressBar,
  randomInitModel,
  runLinprobe,
} from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import { checkpointOption, dataFormatOption, deviceOption, refusingBadInput } from '../eval/options.js';
import { intOption, MAX_BATCH, numberOption } from '../numbers.js';

const count = intOption({ min: 1, max: Number.MAX_SAFE_INTEGER });

export const options = z.strictObject({
  checkpoint: checkpointOption,
  data: z
    .string()
    .default('mnist')
    .describe('mnist, an image folder, tar shards, idx or CIFAR files (labelled)'),
  dataFormat: dataFormatOption,
  valData: z
    .string()
    .optional()
    .describe('the held-out images (e.g. the test split); else a holdout of --data'),
  valFraction: numberOption({ positive: true, max: 0.99 })
    .default(0.1)
    .describe('held out of --data without --val-data'),
  train: count.optional().describe('at most N training images (MNIST: 5000)'),
  test: count.optional().describe('at most M held-out images (MNIST: 1000)'),
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
});

type Options = z.infer<typeof options>;

const pct = (x: number) => `${x.toFixed(2)}%`;

async function run(o: Options): Promise<number> {
  if (o.epochs <= o.warmupEpochs)
    throw new RangeError(`--epochs ${o.epochs} must be greater than --warmup-epochs ${o.warmupEpochs}`);
  const device = o.device as DeviceSpec;
  const loaded = await modelFromCheckpoint(o.checkpoint, { device });
  const { config } = loaded;
  const model = o.randomInit ? randomInitModel(config, o.seed, device) : loaded.model;
  const data = await openProbeData(o.data, config, {
    ...(o.valData !== undefined ? { valData: o.valData } : {}),
    valFraction: o.valFraction,
    ...(o.train ? { train: o.train } : {}),
    ...(o.test ? { test: o.test } : {}),
    seed: o.seed,
    ...(o.dataFormat ? { format: o.dataFormat } : {}),
  });
  const pool = o.globalPool ? 'global' : 'cls';
  console.log(
    `linprobe (${pool === 'cls' ? 'cls token' : 'global pool'}${o.randomInit ? `, random init (seed ${o.seed})` : ''}) on ${o.data}: ${data.train.images.length} train / ` +
      `${data.test.images.length} held-out images (${data.heldOut}), ${data.classes} classes, device ${o.device} -> ${o.outputDir}`,
  );
  const bar = new ProgressBar(process.stderr);
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
      weightDecay: o.weightDecay,
      pool,
      seed: o.seed,
      device,
      outputDir: o.outputDir,
    },
    onStep: (u) => bar.update(u),
    onEpoch: (e: ProbeEpoch) => {
      bar.break();
      console.log(
        `epoch ${e.epoch}: loss ${e.loss.toFixed(4)} top-1 ${pct(e.top1)} top-5 ${pct(e.top5)} (${e.seconds.toFixed(1)} s)`,
      );
    },
  });
  console.log(`best top-1 ${pct(best.top1)} (top-5 ${pct(best.top5)}) at epoch ${best.epoch}`);
  return 0;
}

export const linprobeCommand = defineCommand({
  name: 'linprobe',
  summary: 'linear probe of the frozen encoder (BatchNorm + linear head, LARS), as main_linprobe.py',
  usage: `mae-cuda linprobe --checkpoint C [--data mnist|<image source>] [--val-data SRC | --val-fraction 0.1]
    [--train N] [--test M] [--epochs 10] [--warmup-epochs 1] [--blr 0.1 | --lr LR] [--min-lr 0]
    [--batch-size 256] [--weight-decay 0] [--global-pool] [--random-init] [--seed 0] [--device cpu|cuda[:N]]
    [--output-dir runs/linprobe]
  C: a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder. MNIST: the first N digits
  train (5000) and the last M of the class-balanced first 8630 are held out (1000); an idx or CIFAR
  folder: its test split. Writes log.jsonl (one line per epoch: loss, lr, top-1, top-5) and
  checkpoint-best.safetensors (the head of the best top-1).`,
  options,
  run: (o) => refusingBadInput('linprobe', () => run(o)),
});
