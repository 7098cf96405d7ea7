// commands/linprobe.ts: `mae-cuda linprobe --checkpoint C [--data mnist]`: linear probing as the
// official main_linprobe.py: the encoder frozen (the cls token's features, or --global-pool),
// BatchNorm1d(affine=False) + a linear head trained by LARS on RandomResizedCrop + flip views,
// top-1/top-5 on held-out centre crops per epoch (printed and in log.jsonl), the best head kept.
// Exit 2 for input it cannot use (checked before any training).
import { modelFromCheckpoint, openProbeData, randomInitModel, runLinprobe } from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import {
  checkpointOption,
  deviceOption,
  epochReport,
  labelledDataOptions,
  labelledDataSettings,
  refusingBadInput,
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
});

type Options = z.infer<typeof options>;

async function run(o: Options): Promise<number> {
  if (o.epochs <= o.warmupEpochs)
    throw new RangeError(`--epochs ${o.epochs} must be greater than --warmup-epochs ${o.warmupEpochs}`);
  const device = o.device as DeviceSpec;
  const loaded = await modelFromCheckpoint(o.checkpoint, { device });
  const { config } = loaded;
  const model = o.randomInit ? randomInitModel(config, o.seed, device) : loaded.model;
  const data = await openProbeData(o.data, config, labelledDataSettings(o, o.seed));
  const pool = o.globalPool ? 'global' : 'cls';
  console.log(
    `linprobe (${pool === 'cls' ? 'cls token' : 'global pool'}${o.randomInit ? `, random init (seed ${o.seed})` : ''}) on ${o.data}: ${data.train.images.length} train / ` +
      `${data.test.images.length} held-out images (${data.heldOut}), ${data.classes} classes, device ${o.device} -> ${o.outputDir}`,
  );
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
      weightDecay: o.weightDecay,
      pool,
      seed: o.seed,
      device,
      outputDir: o.outputDir,
    },
    onStep: report.onStep,
    onEpoch: report.onEpoch,
  });
  report.best(best);
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
