// images.ts: labelled images for evaluation, as the model takes them: the shipped MNIST digits
// ('mnist' or a folder of 0.json..9.json: the first N to train, the last M of the class-balanced
// first digits to test, 100 of each class for M = 1,000, clear of the default pretraining's) or an
// image source on disk (an image folder, tar shards, idx or CIFAR files: N and M taken from a
// seeded permutation, since sources are often sorted by class),
// each image its centre square resized to the input size (RandomResizedCrop with scale and ratio
// 1 falls back to exactly that; no flip), and image files for `reconstruct`.
import { readFile } from 'node:fs/promises';
import type { MaeConfig } from '../config/model.js';
import { type AugmentConfig, decodeAugment } from '../data/augment/index.js';
import { ImageDataset } from '../data/dataset.js';
import { epochOrder } from '../data/loader.js';
import { loadMnist, MNIST_MEAN, MNIST_STD } from '../data/mnist.js';
import { IMAGENET_MEAN, IMAGENET_STD, MAX_PIXELS } from '../data/pipeline/streamed.js';
import { openSource, type Sample, type SourceFormat } from '../data/sources/index.js';
import { isMnistJson } from '../train/data.js';

export interface LabelledImages {
  images: ImageDataset;
  labels: Int32Array;
}

export interface EvalImages {
  train: LabelledImages;
  test: LabelledImages;
  /** how many classes the labels index */
  classes: number;
  /** MNIST digits: the index of the first test digit (the test digits follow it) */
  testFrom?: number;
}

export interface EvalImagesOptions {
  train: number;
  test: number;
  seed: number;
  format?: SourceFormat;
}

/** The centre square of any image, resized to the model's input. */
function centreCrop(mc: MaeConfig): AugmentConfig {
  const channels = mc.in_chans === 1 ? 1 : 3;
  return {
    inputSize: mc.img_size,
    channels,
    scale: [1, 1],
    ratio: [1, 1],
    flip: false,
    maxPixels: MAX_PIXELS,
  };
}

/** Normalisation of the model's channels: MNIST's for grey, ImageNet's for RGB. */
function normalisation(channels: number) {
  return channels === 1
    ? { mean: [MNIST_MEAN], std: [MNIST_STD] }
    : { mean: IMAGENET_MEAN, std: IMAGENET_STD };
}

/** Decoded samples as an in-memory dataset of the model's shape (pixels in [0, 1]). */
async function decodeAll(
  name: string,
  samples: (k: number) => Promise<Sample>,
  count: number,
  mc: MaeConfig,
) {
  const cfg = centreCrop(mc);
  const S = mc.img_size;
  const C = cfg.channels;
  const pixels = new Float32Array(count * C * S * S);
  for (let k = 0; k < count; k++) {
    const hwc = await decodeAugment(await samples(k), cfg, 0, 0, k);
    for (let c = 0; c < C; c++)
      for (let p = 0; p < S * S; p++) pixels[(k * C + c) * S * S + p] = hwc[p * C + c]! / 255;
  }
  return new ImageDataset({ name, shape: [C, S, S], pixels, ...normalisation(C) }).withChannels(mc.in_chans);
}

/** Image files (any format the loader decodes) as a dataset for the model, in the order given. */
export function imageFiles(paths: readonly string[], mc: MaeConfig): Promise<ImageDataset> {
  const read = async (k: number): Promise<Sample> => {
    const name = paths[k]!;
    try {
      return { kind: 'encoded', bytes: new Uint8Array(await readFile(name)), name };
    } catch (e) {
      throw new Error(`cannot read ${name}: ${(e as Error).message}`);
    }
  };
  return decodeAll('images', read, paths.length, mc);
}

function checkCounts(o: EvalImagesOptions, have: number, data: string): void {
  for (const [k, v] of [
    ['train', o.train],
    ['test', o.test],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`--${k} must be a positive integer, got ${v}`);
  if (o.train + o.test > have)
    throw new RangeError(`${data} holds ${have} images; --train ${o.train} + --test ${o.test} asks for more`);
}

/**
 * How many of the first digits are class-balanced: the digits are interleaved by class (0, 1, ...,
 * 9, 0, ...) until the rarest class runs out (the shipped 10,000: 863 fives, so the first 8,630).
 */
export function balancedDigits(all: ImageDataset): number {
  const counts = new Map<number, number>();
  for (let k = 0; k < all.length; k++) {
    const label = all.label(k) ?? 0;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts.size * Math.min(...counts.values());
}

/**
 * The MNIST digits: the first `train`, and as test the last `test` of the class-balanced first
 * digits (the digits after them are the commoner classes only: the shipped last 1,000 hold no 5).
 */
function mnistImages(data: string, mc: MaeConfig, o: EvalImagesOptions): EvalImages {
  const all = (data === 'mnist' ? loadMnist() : loadMnist(data)).withChannels(mc.in_chans);
  const balanced = balancedDigits(all);
  checkCounts(o, balanced, `${data} (its class-balanced first ${balanced} of ${all.length} digits)`);
  if (all.shape[1] !== mc.img_size)
    throw new RangeError(
      `the digits are ${all.shape[1]}x${all.shape[2]}; the model takes ${mc.img_size}x${mc.img_size}`,
    );
  const part = (start: number, count: number): LabelledImages => {
    const images = all.subset(start, count);
    return { images, labels: Int32Array.from({ length: count }, (_, k) => images.label(k) ?? 0) };
  };
  const testFrom = balanced - o.test;
  return { train: part(0, o.train), test: part(testFrom, o.test), classes: 10, testFrom };
}

/** The first `limit` images of `data` (all when absent), in order, with their labels. */
export async function openImages(
  data: string,
  mc: MaeConfig,
  o: { limit?: number; format?: SourceFormat } = {},
): Promise<LabelledImages & { classes: number }> {
  const take = (have: number) => {
    if (o.limit !== undefined && !(Number.isSafeInteger(o.limit) && o.limit >= 1))
      throw new RangeError(`--limit must be a positive integer, got ${o.limit}`);
    return Math.min(o.limit ?? have, have);
  };
  if (isMnistJson(data)) {
    const all = (data === 'mnist' ? loadMnist() : loadMnist(data)).withChannels(mc.in_chans);
    const images = all.subset(0, take(all.length));
    return {
      images,
      labels: Int32Array.from({ length: images.length }, (_, k) => images.label(k) ?? 0),
      classes: 10,
    };
  }
  const source = await openSource(data, o.format);
  try {
    const n = take(source.length);
    const images = await decodeAll(data, (k) => source.read(k), n, mc);
    const labels = Int32Array.from({ length: n }, (_, k) => source.label(k));
    return { images, labels, classes: Math.max(1, source.classes.length) };
  } finally {
    await source.close();
  }
}

/** Labelled train and test images from `data` for a model of configuration `mc`. */
export async function openEvalImages(data: string, mc: MaeConfig, o: EvalImagesOptions): Promise<EvalImages> {
  if (isMnistJson(data)) return mnistImages(data, mc, o);
  const source = await openSource(data, o.format);
  try {
    checkCounts(o, source.length, data);
    const order = epochOrder(o.seed, 0, source.length);
    const part = async (start: number, count: number): Promise<LabelledImages> => {
      const at = (k: number) => order[start + k]!;
      const images = await decodeAll(data, (k) => source.read(at(k)), count, mc);
      return { images, labels: Int32Array.from({ length: count }, (_, k) => source.label(at(k))) };
    };
    const train = await part(0, o.train);
    return { train, test: await part(o.train, o.test), classes: Math.max(1, source.classes.length) };
  } finally {
    await source.close();
  }
}
