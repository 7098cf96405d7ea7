// views.ts: the linear probe's image transforms (main_linprobe.py) on in-memory labelled images:
// training RandomResizedCrop(scale 0.08-1, ratio 3/4-4/3, bicubic) + horizontal flip (the loader's
// augment, seeded per epoch and image), evaluation Resize(256) + CenterCrop(224), i.e. the centre
// square of 224/256 of the image resized to the input (one bicubic resample; the ratio is kept for
// any input size). Images are [C, S, S] at the model's input size, pixels in [0, 1]. Fine-tuning's
// training view adds, as main_finetune.py's timm create_transform, RandAugment on the 8-bit crop
// (filled with the dataset mean) and random erasing after the normalisation, each from its own
// per-sample stream (Streams.randAugment, Streams.erasing and Streams.erasingPixels), so the crop
// and flip are the same with and without them.
import { cropResizeBicubicU8, type DeviceSpec, Tensor } from '@mae-cuda/native';
import { type AugmentConfig, decodeAugment } from '../data/augment/augment.js';
import { roundHalfEven } from '../data/augment/crop.js';
import { type ErasingConfig, randomErase } from '../data/augment/erasing.js';
import { randAugment } from '../data/augment/randaugment.js';
import { type RandAugmentConfig, randAugmentFill } from '../data/augment/randaugment_config.js';
import { sampleRandom } from '../data/augment/random.js';
import type { ImageDataset } from '../data/dataset.js';
import { MAX_PIXELS } from '../data/pipeline/streamed.js';
import { Streams } from '../rng/noise.js';

/** main_linprobe.py's evaluation resize over crop, 256 / 224. */
export const EVAL_RESIZE_RATIO = 256 / 224;
/** torchvision RandomResizedCrop's defaults, which util/crop.py keeps. */
export const PROBE_SCALE: [number, number] = [0.08, 1];
export const PROBE_RATIO: [number, number] = [3 / 4, 4 / 3];

/** Image i as 8-bit HWC. */
function hwcU8(images: ImageDataset, i: number): Uint8Array {
  const [C, H, W] = images.shape;
  const src = images.raw(i);
  const out = new Uint8Array(C * H * W);
  for (let c = 0; c < C; c++)
    for (let p = 0; p < H * W; p++) out[p * C + c] = Math.round(src[c * H * W + p]! * 255);
  return out;
}

/** 8-bit HWC pixels, normalised with the dataset's mean and std, into `out` at `offset` as CHW. */
function normaliseInto(images: ImageDataset, hwc: Uint8Array, out: Float32Array, offset: number): void {
  const [C, H, W] = images.shape;
  for (let c = 0; c < C; c++)
    for (let p = 0; p < H * W; p++)
      out[offset + c * H * W + p] = (hwc[p * C + c]! / 255 - images.mean[c]!) / images.std[c]!;
}

function channelsOf(images: ImageDataset): 1 | 3 {
  const C = images.shape[0];
  if (C !== 1 && C !== 3) throw new RangeError(`linprobe: images must have 1 or 3 channels, got ${C}`);
  return C;
}

/** Fine-tuning's augmentations after the crop and flip (none for the linear probe). */
export interface TrainExtras {
  randAugment?: RandAugmentConfig;
  erasing?: ErasingConfig;
}

/**
 * The training view of images `indices` in `epoch`: RandomResizedCrop + flip, then RandAugment and
 * random erasing when `extras` has them, [B, C, S, S].
 */
export async function trainBatch(
  images: ImageDataset,
  indices: ArrayLike<number>,
  seed: number,
  epoch: number,
  device: DeviceSpec,
  extras: TrainExtras = {},
): Promise<Tensor<'f32'>> {
  const [C, S] = [channelsOf(images), images.shape[1]];
  const fill = randAugmentFill(images.mean);
  const cfg: AugmentConfig = {
    inputSize: S,
    channels: C,
    scale: PROBE_SCALE,
    ratio: PROBE_RATIO,
    flip: true,
    maxPixels: MAX_PIXELS,
  };
  const per = images.imageSize;
  const out = new Float32Array(indices.length * per);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    const sample = {
      kind: 'raw' as const,
      pixels: hwcU8(images, i),
      width: S,
      height: S,
      channels: C,
      name: `${i}`,
    };
    let px = await decodeAugment(sample, cfg, seed, epoch, i);
    if (extras.randAugment) {
      const uniform = sampleRandom(seed, epoch, i, Streams.randAugment);
      px = randAugment(px, S, S, C, extras.randAugment, fill, uniform);
    }
    normaliseInto(images, px, out, k * per);
    if (extras.erasing && extras.erasing.prob > 0) {
      const boxes = sampleRandom(seed, epoch, i, Streams.erasing);
      const values = sampleRandom(seed, epoch, i, Streams.erasingPixels);
      randomErase(out, k * per, C, S, S, extras.erasing, boxes, values);
    }
  }
  return Tensor.fromArray('f32', [indices.length, ...images.shape], out, device);
}

/** The centre crop box of the evaluation view of an S x S image. */
export function evalCropBox(S: number) {
  const side = Math.max(1, roundHalfEven(S / EVAL_RESIZE_RATIO));
  const at = roundHalfEven((S - side) / 2);
  return { left: at, top: at, width: side, height: side };
}

/** The evaluation view of images `indices`: the 224/256 centre crop resized to S, [B, C, S, S]. */
export function evalBatch(
  images: ImageDataset,
  indices: ArrayLike<number>,
  device: DeviceSpec,
): Tensor<'f32'> {
  const [C, S] = [channelsOf(images), images.shape[1]];
  const box = evalCropBox(S);
  const per = images.imageSize;
  const out = new Float32Array(indices.length * per);
  const dst = new Uint8Array(per);
  for (let k = 0; k < indices.length; k++) {
    cropResizeBicubicU8(dst, hwcU8(images, indices[k]!), S, S, C, box, S, S, false);
    normaliseInto(images, dst, out, k * per);
  }
  return Tensor.fromArray('f32', [indices.length, ...images.shape], out, device);
}
