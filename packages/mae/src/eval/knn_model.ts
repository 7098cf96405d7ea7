// knn_model.ts: the weighted kNN accuracy of a model's encoder: the features of labelled train and
// test images (features.ts), L2-normalised, the test images classified by their neighbours among
// the train images (knn.ts), for the cls token's and the mean-pooled features. `mae-cuda knn` and
// the end-of-run evaluation of `pretrain` both measure with it.
import type { DeviceSpec } from '@mae-cuda/native';
import type { MaskedAutoencoder } from '../model/mae.js';
import { encoderFeatures } from './features.js';
import type { EvalImages } from './images.js';
import { KNN_K, KNN_TEMPERATURE, knnAccuracy, l2Normalise } from './knn.js';

export const KNN_FEATURES = ['cls', 'mean'] as const;
export type KnnFeatures = (typeof KNN_FEATURES)[number];

export interface TopK {
  top1: number;
  top5: number;
}

export interface ModelKnnOptions {
  device: DeviceSpec;
  /** images per forward */
  batchSize: number;
  k?: number;
  temperature?: number;
}

/** Top-1 and top-5 (percent) of the kNN classifier on `model`'s features, by kind of feature. */
export async function modelKnnAccuracy(
  model: MaskedAutoencoder,
  data: EvalImages,
  o: ModelKnnOptions,
): Promise<Record<KnnFeatures, TopK>> {
  const dim = model.config.embed_dim;
  const train = await encoderFeatures(model, data.train.images, o.batchSize, o.device);
  const test = await encoderFeatures(model, data.test.images, o.batchSize, o.device);
  const of = (kind: KnnFeatures) =>
    knnAccuracy(
      { features: l2Normalise(train[kind], dim), labels: data.train.labels },
      { features: l2Normalise(test[kind], dim), labels: data.test.labels },
      {
        dim,
        classes: data.classes,
        k: o.k ?? KNN_K,
        temperature: o.temperature ?? KNN_TEMPERATURE,
      },
    );
  return { cls: of('cls'), mean: of('mean') };
}
