// data.ts: the linear probe's labelled train and held-out images, at the model's input size. The
// shipped MNIST digits: the first --train and the last --test of the class-balanced ones (as knn).
// A source on disk: --val-data (another source) when given, else the test split beside it (an idx
// folder's t10k files, CIFAR's test batch: test_split.ts), else a deterministic holdout of
// --val-fraction of it (a seeded permutation, as knn's). A source without
// labels (fewer than two classes) is refused naming it, before any image is decoded.
import type { MaeConfig } from '../config/model.js';
import { openSource, type SourceFormat } from '../data/sources/index.js';
import { type EvalImages, type LabelledImages, openEvalImages, openImages } from '../eval/images.js';
import { isMnistJson } from '../train/data.js';
import { testSplitOf } from './test_split.js';

export const MNIST_PROBE_TRAIN = 5000;
export const MNIST_PROBE_TEST = 1000;

export interface ProbeDataOptions {
  valData?: string;
  valFraction: number;
  /** at most this many training images (all by default, MNIST 5,000) */
  train?: number;
  /** at most this many held-out images (all by default, MNIST 1,000) */
  test?: number;
  seed: number;
  format?: SourceFormat;
}

/** The source's length, refusing one without labels. */
async function labelledLength(data: string, format?: SourceFormat): Promise<number> {
  const source = await openSource(data, format);
  try {
    if (source.classes.length < 2)
      throw new Error(
        `${data} has no labels (${source.classes.length} class): the linear probe needs labelled images (class folders, idx or CIFAR labels, .cls members of tar shards)`,
      );
    return source.length;
  } finally {
    await source.close();
  }
}

const capped = (imgs: LabelledImages, n?: number): LabelledImages =>
  n === undefined || n >= imgs.images.length
    ? imgs
    : { images: imgs.images.subset(0, n), labels: imgs.labels.subarray(0, n) };

/** The images and what was held out (for the command's first line). */
export type ProbeData = EvalImages & { heldOut: string };

/** Labelled train and held-out images of `data` for a model of configuration `mc`. */
export async function openProbeData(data: string, mc: MaeConfig, o: ProbeDataOptions): Promise<ProbeData> {
  const format = o.format ? { format: o.format } : {};
  const valData = o.valData ?? (await testSplitOf(data, o.format));
  if (valData !== undefined) {
    for (const d of [data, valData]) if (!isMnistJson(d)) await labelledLength(d, o.format);
    const train = await openImages(data, mc, { ...format, ...(o.train ? { limit: o.train } : {}) });
    const test = await openImages(valData, mc, { ...format, ...(o.test ? { limit: o.test } : {}) });
    return { train, test, classes: Math.max(train.classes, test.classes), heldOut: valData };
  }
  if (isMnistJson(data)) {
    const split = await openEvalImages(data, mc, {
      train: o.train ?? MNIST_PROBE_TRAIN,
      test: o.test ?? MNIST_PROBE_TEST,
      seed: o.seed,
    });
    return { ...split, heldOut: 'the last class-balanced digits' };
  }
  if (!(o.valFraction > 0 && o.valFraction < 1))
    throw new RangeError(`--val-fraction must be in (0, 1), got ${o.valFraction}`);
  const n = await labelledLength(data, o.format);
  const held = Math.max(1, Math.round(n * o.valFraction));
  const split = await openEvalImages(data, mc, { train: n - held, test: held, seed: o.seed, ...format });
  return {
    ...split,
    train: capped(split.train, o.train),
    test: capped(split.test, o.test),
    heldOut: `a seeded ${o.valFraction} of it`,
  };
}
