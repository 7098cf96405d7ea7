// evaluate.ts: the end of a run: the weighted kNN accuracy (eval/knn_model.ts, as `mae-cuda knn`)
// of the pretrained encoder against the same architecture at the run's random initialisation (its
// seed: the weights the run started from), on labelled images of the run's data. On the MNIST
// digits the neighbours are the first eval_train digits and the test digits the last eval_test,
// which the default run does not pretrain on; on another source both come from a seeded shuffle.
// The record goes to log.jsonl as one line with "eval": "knn".
import type { DeviceSpec } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import { openEvalImages } from '../eval/images.js';
import { KNN_K, KNN_TEMPERATURE } from '../eval/knn.js';
import { type KnnFeatures, modelKnnAccuracy, type TopK } from '../eval/knn_model.js';
import { randomInitModel } from '../eval/model.js';
import type { MaskedAutoencoder } from '../model/mae.js';
import type { PretrainConfig } from './config.js';
import { isMnistJson } from './data.js';
import { appendHistory } from './history.js';

/** The features the evaluation's headline compares: mean-pooled patch tokens (docs: README). */
export const EVAL_FEATURES: KnnFeatures = 'mean';
const EVAL_BATCH = 256;

export interface RunEvaluation {
  eval: 'knn';
  /** the optimiser step evaluated */
  steps: number;
  k: number;
  temperature: number;
  /** the features of the headline numbers */
  features: KnnFeatures;
  train_images: number;
  test_images: number;
  /** whether the run pretrained on any test image (undefined: not known for this source) */
  test_pretrained_on?: boolean;
  pretrained: Record<KnnFeatures, TopK>;
  random_init: Record<KnnFeatures, TopK>;
  seconds: number;
}

/** Whether a run's settings ask for the evaluation: knn always, auto on the MNIST digits (labelled). */
export function evaluates(c: PretrainConfig): boolean {
  return c.eval === 'knn' || (c.eval === 'auto' && isMnistJson(c.data));
}

export interface EvaluateRunOptions {
  config: PretrainConfig;
  model: MaskedAutoencoder;
  mc: MaeConfig;
  steps: number;
  /** the run's training images: the first this many of the source */
  trainImages: number;
  outputDir: string;
}

/** Evaluates the pretrained model against its random initialisation and appends the record to log.jsonl. */
export async function evaluateRun(o: EvaluateRunOptions): Promise<RunEvaluation> {
  const { config: c } = o;
  const t0 = performance.now();
  const device = c.device as DeviceSpec;
  const data = await openEvalImages(c.data, o.mc, {
    train: c.eval_train,
    test: c.eval_test,
    seed: c.seed,
    ...(c.data_format ? { format: c.data_format } : {}),
  });
  if (data.classes < 2)
    throw new Error(
      `eval knn: ${c.data} has no labels (${data.classes} class), so there is nothing to classify; the checkpoint is saved (--eval none skips the evaluation)`,
    );
  const knn = { device, batchSize: EVAL_BATCH, k: KNN_K, temperature: KNN_TEMPERATURE };
  const pretrained = await modelKnnAccuracy(o.model, data, knn);
  const random = await modelKnnAccuracy(randomInitModel(o.mc, c.seed, device), data, knn);
  const overlap = data.testFrom === undefined ? undefined : o.trainImages > data.testFrom;
  const record: RunEvaluation = {
    eval: 'knn',
    steps: o.steps,
    k: KNN_K,
    temperature: KNN_TEMPERATURE,
    features: EVAL_FEATURES,
    train_images: data.train.images.length,
    test_images: data.test.images.length,
    ...(overlap === undefined ? {} : { test_pretrained_on: overlap }),
    pretrained,
    random_init: random,
    seconds: (performance.now() - t0) / 1000,
  };
  appendHistory(o.outputDir, record, []);
  return record;
}
