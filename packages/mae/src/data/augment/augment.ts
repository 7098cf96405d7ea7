// augment.ts: one training sample through the pretraining transform up to uint8, after the
// loader's convert('RGB') (and convert('L') for one channel): by default the official
// RandomResizedCrop(inputSize, scale, ratio, BICUBIC) then RandomHorizontalFlip(0.5); `crop` and
// `jitter` choose the other augmentations of `--aug` (modes.ts): a resize then a random or centre
// crop (resize_crop.ts), and ColorJitter after the crop (jitter.ts). ToTensor and Normalize happen
// later, on the device. The randomness is sampleRandom(seed, epoch, index): draw 0 is the flip
// (flipped when u < 0.5; drawn even when cfg.flip is off, so the crop does not depend on it), the
// crop's draws follow (crop.ts, resize_crop.ts), then the jitter's. For RandomResizedCrop the
// crop box comes from the stored size in the header and only the box is converted and resized;
// the other crops decode the whole image. Binary PPM/PGM files (netpbm.ts) are raw pixels already.

import { cropResizeBicubicU8 } from '@mae-cuda/native';
import type { Sample } from '../sources/types.js';
import { rgbToLuma, toRgb } from './convert.js';
import { type CropBox, cropParams } from './crop.js';
import { DecodeError, decodeRegion, readDecodeHeader } from './decode.js';
import { applyJitter, jitterParams } from './jitter.js';
import { type CropKind, evalResizeSize } from './modes.js';
import { readNetpbm } from './netpbm.js';
import { cropHwc } from './pixels.js';
import { sampleRandom } from './random.js';
import { resizeThenCrop } from './resize_crop.js';

/** The transform's settings; MAE's are inputSize 224, scale [0.2, 1], ratio [3/4, 4/3], flip on. */
export interface AugmentConfig {
  inputSize: number;
  channels: 1 | 3;
  scale: [number, number];
  ratio: [number, number];
  flip: boolean;
  /** the crop (default random-resized: RandomResizedCrop with scale and ratio) */
  crop?: CropKind;
  /** ColorJitter brightness = contrast = saturation strength after the crop (default 0: none) */
  jitter?: number;
  /** Images with more pixels than this (by their header) are refused before decoding. */
  maxPixels: number;
}

function checkConfig(cfg: AugmentConfig): void {
  if (!Number.isSafeInteger(cfg.inputSize) || cfg.inputSize < 1) {
    throw new RangeError(`augment: inputSize must be a positive integer, got ${cfg.inputSize}`);
  }
  if (cfg.channels !== 1 && cfg.channels !== 3) {
    throw new RangeError(`augment: channels must be 1 or 3, got ${cfg.channels}`);
  }
  if (cfg.jitter !== undefined && !(cfg.jitter >= 0 && cfg.jitter <= 1))
    throw new RangeError(`augment: jitter must be in [0, 1], got ${cfg.jitter}`);
  if (!Number.isSafeInteger(cfg.maxPixels) || cfg.maxPixels < 1) {
    throw new RangeError(`augment: maxPixels must be a positive integer, got ${cfg.maxPixels}`);
  }
}

/** The RGB pixels of `box` in a raw sample whose shape checkRaw has accepted. */
function rawRegion(sample: Extract<Sample, { kind: 'raw' }>, box: CropBox): Uint8Array {
  const { width, channels } = sample;
  return toRgb(cropHwc(sample.pixels, width, channels, box), box.width * box.height, channels, 'rgb');
}

function checkRaw(sample: Extract<Sample, { kind: 'raw' }>, maxPixels: number): void {
  const { width, height, channels, name } = sample;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new DecodeError(name, `raw size ${width}x${height} is not positive integers`);
  }
  if (channels !== 1 && channels !== 3)
    throw new DecodeError(name, `raw channels must be 1 or 3, got ${channels}`);
  if (sample.pixels.length !== width * height * channels) {
    throw new DecodeError(
      name,
      `${sample.pixels.length} bytes of raw pixels, expected ${width}x${height}x${channels}`,
    );
  }
  if (width * height > maxPixels) {
    throw new DecodeError(
      name,
      `${width}x${height} = ${width * height} pixels is over the limit of ${maxPixels}`,
    );
  }
}

/** The whole of a w x h image as a crop box. */
const whole = (width: number, height: number): CropBox => ({ left: 0, top: 0, width, height });

/** RandomResizedCrop (+ flip) of a stored sample into dst. */
async function randomResizedCrop(
  stored: Sample,
  cfg: AugmentConfig,
  flip: boolean,
  uniform: () => number,
  dst: Uint8Array,
): Promise<void> {
  const S = cfg.inputSize;
  const C = cfg.channels;
  if (stored.kind === 'encoded') {
    const header = await readDecodeHeader(stored.bytes, stored.name, cfg.maxPixels);
    const box = cropParams(header.width, header.height, cfg.scale, cfg.ratio, uniform);
    const rgb = await decodeRegion(stored.bytes, stored.name, header, box, cfg.maxPixels);
    const px = C === 1 ? rgbToLuma(rgb) : rgb;
    cropResizeBicubicU8(dst, px, box.width, box.height, C, whole(box.width, box.height), S, S, flip);
    return;
  }
  checkRaw(stored, cfg.maxPixels);
  const box = cropParams(stored.width, stored.height, cfg.scale, cfg.ratio, uniform);
  if (stored.channels === C) {
    cropResizeBicubicU8(dst, stored.pixels, stored.width, stored.height, C, box, S, S, flip);
  } else {
    const rgb = rawRegion(stored, box);
    const px = C === 1 ? rgbToLuma(rgb) : rgb;
    cropResizeBicubicU8(dst, px, box.width, box.height, C, whole(box.width, box.height), S, S, flip);
  }
}

/** The whole of a stored sample as HWC pixels with the model's channels. */
async function wholeImage(
  stored: Sample,
  cfg: AugmentConfig,
): Promise<{ px: Uint8Array; width: number; height: number }> {
  const C = cfg.channels;
  if (stored.kind === 'encoded') {
    const header = await readDecodeHeader(stored.bytes, stored.name, cfg.maxPixels);
    const { width, height } = header;
    const rgb = await decodeRegion(stored.bytes, stored.name, header, whole(width, height), cfg.maxPixels);
    return { px: C === 1 ? rgbToLuma(rgb) : rgb, width, height };
  }
  checkRaw(stored, cfg.maxPixels);
  const { width, height } = stored;
  if (stored.channels === C) return { px: stored.pixels, width, height };
  const rgb = rawRegion(stored, whole(width, height));
  return { px: C === 1 ? rgbToLuma(rgb) : rgb, width, height };
}

/**
 * Sample `index` of `epoch` decoded, cropped, resized and maybe flipped: inputSize * inputSize *
 * channels bytes, HWC, written into `out` when given (e.g. the loader's batch slot), else into a new
 * array. Throws DecodeError (naming the sample) for data that cannot be used.
 */
export async function decodeAugment(
  sample: Sample,
  cfg: AugmentConfig,
  seed: bigint | number,
  epoch: number,
  index: number,
  out?: Uint8Array,
): Promise<Uint8Array> {
  checkConfig(cfg);
  const S = cfg.inputSize;
  const C = cfg.channels;
  const dst = out ?? new Uint8Array(S * S * C);
  if (dst.length !== S * S * C) {
    throw new RangeError(`augment: out has ${dst.length} bytes, expected ${S}x${S}x${C} = ${S * S * C}`);
  }
  const uniform = sampleRandom(seed, epoch, index);
  const flip = uniform() < 0.5 && cfg.flip;
  const stored = sample.kind === 'encoded' ? (readNetpbm(sample.bytes, sample.name) ?? sample) : sample;
  const crop = cfg.crop ?? 'random-resized';
  if (crop === 'random-resized') await randomResizedCrop(stored, cfg, flip, uniform, dst);
  else {
    const { px, width, height } = await wholeImage(stored, cfg);
    resizeThenCrop(
      dst,
      px,
      width,
      height,
      C,
      { resize: evalResizeSize(S), size: S, kind: crop, flip },
      uniform,
    );
  }
  if (cfg.jitter) applyJitter(dst, C, jitterParams(cfg.jitter, uniform));
  return dst;
}
