// commands/knn.ts: `mae-cuda knn --checkpoint C [--data mnist] [--train N --test M]`: a weighted kNN
// classifier on the encoder's features (k 20, temperature 0.07, as DINO evaluates), top-1 and top-5
// on the test images, for the cls token's and the mean-pooled features, of the checkpoint's model
// and of the same architecture at random initialisation (printed both). Exit 2 for input it cannot
// use.
import {
  KNN_FEATURES,
  KNN_K,
  KNN_TEMPERATURE,
  type MaskedAutoencoder,
  modelFromCheckpoint,
  modelKnnAccuracy,
  openEvalImages,
  randomInitModel,
} from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import {
  batchOption,
  checkpointOption,
  dataFormatOption,
  deviceOption,
  refusingBadInput,
} from '../eval/options.js';
import { intOption, numberOption } from '../numbers.js';

const count = intOption({ min: 1, max: Number.MAX_SAFE_INTEGER });

export const options = z.strictObject({
  checkpoint: checkpointOption,
  data: z.string().default('mnist').describe('mnist, an image folder, tar shards, idx or CIFAR files'),
  dataFormat: dataFormatOption,
  train: count.default(5000).describe('images the neighbours come from'),
  test: count.default(1000).describe('images classified'),
  k: intOption({ min: 1, max: 100000 }).default(KNN_K),
  temperature: numberOption({ positive: true }).default(KNN_TEMPERATURE),
  seed: intOption({ min: 0, max: 2 ** 32 - 1 })
    .default(0)
    .describe('the random-init model and the sample order of a disk source'),
  device: deviceOption,
  batchSize: batchOption,
});

const pct = (x: number) => `${x.toFixed(1)}%`.padStart(7);

export const knnCommand = defineCommand({
  name: 'knn',
  summary:
    'weighted kNN accuracy of the encoder (k 20, T 0.07 as DINO), against the same model at random init',
  usage: `mae-cuda knn --checkpoint C [--data mnist|<image source>] [--data-format F] [--train 5000] [--test 1000]
    [--k 20] [--temperature 0.07] [--seed 0] [--device cpu|cuda[:N]] [--batch-size 128]
  C: a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder. MNIST: the first N digits
  train and the last M of the class-balanced first 8630 test (100 of each class for M 1000);
  another source: N and M from a seeded shuffle. Images are centre-cropped to the model's input. Prints top-1 and top-5 for the cls token's and the mean-pooled features.`,
  options,
  run: (o) =>
    refusingBadInput('knn', async () => {
      const { model, config } = await modelFromCheckpoint(o.checkpoint, { device: o.device as DeviceSpec });
      const data = await openEvalImages(o.data, config, {
        train: o.train,
        test: o.test,
        seed: o.seed,
        ...(o.dataFormat ? { format: o.dataFormat } : {}),
      });
      console.log(
        `knn (k ${o.k}, T ${o.temperature}) on ${o.data}: ${o.train} train / ${o.test} test images, ${data.classes} classes`,
      );
      console.log('features  model                  top-1    top-5');
      const models: [string, MaskedAutoencoder][] = [
        ['checkpoint', model],
        [`random init (seed ${o.seed})`, randomInitModel(config, o.seed, o.device as DeviceSpec)],
      ];
      for (const [name, m] of models) {
        const r = await modelKnnAccuracy(m, data, {
          device: o.device as DeviceSpec,
          batchSize: o.batchSize,
          k: o.k,
          temperature: o.temperature,
        });
        for (const kind of KNN_FEATURES)
          console.log(`${kind.padEnd(9)} ${name.padEnd(21)} ${pct(r[kind].top1)}  ${pct(r[kind].top5)}`);
      }
      return 0;
    }),
});
