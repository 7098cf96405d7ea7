// data.ts: what a run's `data` setting (`mae-cuda pretrain --data`) reads: the MNIST digits in memory ('mnist', or a folder of
// 0.json ... 9.json in the mnist package's format), or images on disk (an image folder, tar shards,
// idx or CIFAR files) decoded by the batch loader's worker threads. The preview images for
// reconstructions.png: held out after the training digits, or the first images of the source.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { MaeConfig } from '../config/model.js';
import type { ImageDataset } from '../data/dataset.js';
import { loadMnist, MNIST_DEFAULT_LIMIT } from '../data/mnist.js';
import { StreamedImages } from '../data/pipeline/streamed.js';
import { DataError } from '../data/sources/types.js';
import type { PretrainConfig } from './config.js';

export interface TrainData {
  train: ImageDataset | StreamedImages;
  preview?: ImageDataset;
  close(): Promise<void>;
}

/** 'mnist', or a folder holding the mnist package's 0.json ... 9.json. */
export function isMnistJson(data: string): boolean {
  return data === 'mnist' || (existsSync(join(data, '0.json')) && statSync(data).isDirectory());
}

/** Loader threads by default: the cores less one on the CPU (the step uses them too), all on CUDA. */
export function defaultWorkers(
  device: string,
  localWorld = Number(process.env.LOCAL_WORLD_SIZE ?? 1),
): number {
  const cores = Math.max(1, Math.floor(availableParallelism() / Math.max(1, localWorld)));
  return device === 'cpu' ? Math.max(1, cores - 1) : cores;
}

/** Training images and the preview images (held out after the training ones when there are enough). */
export function splitData(
  all: ImageDataset,
  c: PretrainConfig,
): { train: ImageDataset; preview?: ImageDataset } {
  const limit = c.limit ?? MNIST_DEFAULT_LIMIT;
  const n = limit === 0 || limit >= all.length ? all.length : limit;
  const train = n === all.length ? all : all.subset(0, n);
  const count = Math.min(c.preview, all.length);
  if (count === 0) return { train };
  const start = n + count <= all.length ? n : 0;
  return { train, preview: all.subset(start, count) };
}

/** Opens the run's data; a source that cannot be used throws (a DataError names it). */
export async function openTrainData(c: PretrainConfig, model: MaeConfig): Promise<TrainData> {
  if (isMnistJson(c.data)) {
    if (c.aug !== 'rrc-flip')
      throw new DataError(
        c.data,
        `--aug ${c.aug}: the MNIST digits are trained on as they are; --aug applies to images read from disk`,
      );
    const split = splitData(c.data === 'mnist' ? loadMnist() : loadMnist(c.data), c);
    return { ...split, close: async () => {} };
  }
  const images = await StreamedImages.open({
    path: c.data,
    ...(c.data_format ? { format: c.data_format } : {}),
    inputSize: model.img_size,
    channels: model.in_chans === 1 ? 1 : 3,
    seed: c.seed,
    batch: c.batch_size,
    workers: c.num_workers ?? defaultWorkers(c.device),
    prefetch: c.prefetch,
    badData: c.bad_data,
    aug: c.aug,
    pinMemory: c.device.startsWith('cuda'),
    ...(c.limit ? { limit: c.limit } : {}),
    ...(c.mean ? { mean: c.mean } : {}),
    ...(c.std ? { std: c.std } : {}),
  });
  try {
    const count = Math.min(c.preview, images.length);
    const preview = count > 0 ? await images.previewDataset(0, count) : undefined;
    return { train: images, ...(preview ? { preview } : {}), close: () => images.close() };
  } catch (e) {
    await images.close();
    throw e;
  }
}
