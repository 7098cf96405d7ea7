// randaugment.ts: timm 0.3.2's RandAugment (data/auto_augment.py: RandAugment, AugmentOp, the level
// functions with _MAX_LEVEL = 10; current timm calls it _LEVEL_DENOM) on an 8-bit HWC image with 1
// ('L') or 3 ('RGB') channels, after the crop and flip as in create_transform. The draws, from a
// PyRandom over the sample's uniforms (pyrandom.ts), in timm's order:
//   1. the ops: numLayers picks from the 15-op list with replacement (np.random.choice), op
//      floor(u * 15) for each uniform u (numpy's integers are not a function of one uniform; the
//      same distribution)
//   2. for each picked op in turn (AugmentOp.__call__): skipped when random() > 0.5; else the
//      magnitude m = gauss(magnitude, std) when std > 0, clipped to [0, 10]; then its level
//      function, whose signed ones negate the level when random() > 0.5:
//        Rotate            +-(m/10) * 30 degrees (Image.rotate, bicubic, fill)
//        ShearX / ShearY   +-(m/10) * 0.3: AFFINE (1, s, 0, 0, 1, 0) / (1, 0, 0, s, 1, 0)
//        TranslateXRel/YRel +-(m/10) * 0.45 of the width / height: AFFINE (1, 0, t, 0, 1, 0) / (.., t)
//        Color, Contrast, Brightness, Sharpness          (m/10) * 1.8 + 0.1 (ImageEnhance)
//        ...Increasing                                   1 +- (m/10) * 0.9
//        Posterize int((m/10) * 4) bits, PosterizeIncreasing 4 - that
//        Solarize threshold int((m/10) * 256), SolarizeIncreasing 256 - that
//        SolarizeAdd int((m/10) * 110) added below 128
//        AutoContrast, Equalize, Invert                  no level (the magnitude is still drawn)
// The geometric ops fill with create_transform's img_mean (randaugment_config.ts); the pixel ops are
// imageops.ts and enhance.ts, the geometric ones affine.ts, each as Pillow 9.4 computes them.
import { affineBicubic, rotateBicubic } from './affine.js';
import { enhanceBrightness, enhanceColor, enhanceContrast, enhanceSharpness } from './enhance.js';
import { autocontrast, equalize, invert, posterize, solarize, solarizeAdd } from './imageops.js';
import { PyRandom } from './pyrandom.js';
import type { RandAugmentConfig } from './randaugment_config.js';

/** timm's _RAND_TRANSFORMS. */
export const RAND_TRANSFORMS = [
  'AutoContrast',
  'Equalize',
  'Invert',
  'Rotate',
  'Posterize',
  'Solarize',
  'SolarizeAdd',
  'Color',
  'Contrast',
  'Brightness',
  'Sharpness',
  'ShearX',
  'ShearY',
  'TranslateXRel',
  'TranslateYRel',
] as const;

/** timm's _RAND_INCREASING_TRANSFORMS (--aa ...-inc1). */
export const RAND_INCREASING_TRANSFORMS = [
  'AutoContrast',
  'Equalize',
  'Invert',
  'Rotate',
  'PosterizeIncreasing',
  'SolarizeIncreasing',
  'SolarizeAdd',
  'ColorIncreasing',
  'ContrastIncreasing',
  'BrightnessIncreasing',
  'SharpnessIncreasing',
  'ShearX',
  'ShearY',
  'TranslateXRel',
  'TranslateYRel',
] as const;

export type RandOpName = (typeof RAND_TRANSFORMS)[number] | (typeof RAND_INCREASING_TRANSFORMS)[number];

/** One picked op: whether it ran (prob 0.5), its clipped magnitude and its arguments. */
export interface RandAugmentOp {
  name: RandOpName;
  applied: boolean;
  magnitude?: number;
  args: number[];
}

const MAX_LEVEL = 10;
const PROB = 0.5;

type Level = (m: number, r: PyRandom) => number[];
const negate = (v: number, r: PyRandom) => (r.random() > 0.5 ? -v : v);
const enhance: Level = (m) => [(m / MAX_LEVEL) * 1.8 + 0.1];
const enhanceIncreasing: Level = (m, r) => [1.0 + negate((m / MAX_LEVEL) * 0.9, r)];
const shear: Level = (m, r) => [negate((m / MAX_LEVEL) * 0.3, r)];
const translateRel: Level = (m, r) => [negate((m / MAX_LEVEL) * 0.45, r)];
const posterizeBits = (m: number) => Math.trunc((m / MAX_LEVEL) * 4);
const solarizeThreshold = (m: number) => Math.trunc((m / MAX_LEVEL) * 256);

const LEVEL: Record<RandOpName, Level | undefined> = {
  AutoContrast: undefined,
  Equalize: undefined,
  Invert: undefined,
  Rotate: (m, r) => [negate((m / MAX_LEVEL) * 30, r)],
  Posterize: (m) => [posterizeBits(m)],
  PosterizeIncreasing: (m) => [4 - posterizeBits(m)],
  Solarize: (m) => [solarizeThreshold(m)],
  SolarizeIncreasing: (m) => [256 - solarizeThreshold(m)],
  SolarizeAdd: (m) => [Math.trunc((m / MAX_LEVEL) * 110)],
  Color: enhance,
  ColorIncreasing: enhanceIncreasing,
  Contrast: enhance,
  ContrastIncreasing: enhanceIncreasing,
  Brightness: enhance,
  BrightnessIncreasing: enhanceIncreasing,
  Sharpness: enhance,
  SharpnessIncreasing: enhanceIncreasing,
  ShearX: shear,
  ShearY: shear,
  TranslateXRel: translateRel,
  TranslateYRel: translateRel,
};

interface Img {
  px: Uint8Array;
  W: number;
  H: number;
  C: number;
}
type Apply = (im: Img, a: number, fill: readonly number[]) => Uint8Array;
const affine = (im: Img, m: number[], fill: readonly number[]) =>
  affineBicubic(im.px, im.W, im.H, im.C, m, fill);

const APPLY: Record<RandOpName, Apply> = {
  AutoContrast: (im) => autocontrast(im.px, im.C),
  Equalize: (im) => equalize(im.px, im.C),
  Invert: (im) => invert(im.px, im.C),
  Rotate: (im, a, fill) => rotateBicubic(im.px, im.W, im.H, im.C, a, fill),
  Posterize: (im, a) => posterize(im.px, im.C, a),
  PosterizeIncreasing: (im, a) => posterize(im.px, im.C, a),
  Solarize: (im, a) => solarize(im.px, im.C, a),
  SolarizeIncreasing: (im, a) => solarize(im.px, im.C, a),
  SolarizeAdd: (im, a) => solarizeAdd(im.px, im.C, a),
  Color: (im, a) => enhanceColor(im.px, im.C, a),
  ColorIncreasing: (im, a) => enhanceColor(im.px, im.C, a),
  Contrast: (im, a) => enhanceContrast(im.px, im.C, a),
  ContrastIncreasing: (im, a) => enhanceContrast(im.px, im.C, a),
  Brightness: (im, a) => enhanceBrightness(im.px, im.C, a),
  BrightnessIncreasing: (im, a) => enhanceBrightness(im.px, im.C, a),
  Sharpness: (im, a) => enhanceSharpness(im.px, im.W, im.H, im.C, a),
  SharpnessIncreasing: (im, a) => enhanceSharpness(im.px, im.W, im.H, im.C, a),
  ShearX: (im, a, fill) => affine(im, [1, a, 0, 0, 1, 0], fill),
  ShearY: (im, a, fill) => affine(im, [1, 0, 0, a, 1, 0], fill),
  TranslateXRel: (im, a, fill) => affine(im, [1, 0, a * im.W, 0, 1, 0], fill),
  TranslateYRel: (im, a, fill) => affine(im, [1, 0, 0, 0, 1, a * im.H], fill),
};

/** RandAugment's draws for one image (see the header), from the sample's uniforms. */
export function randAugmentOps(cfg: RandAugmentConfig, uniform: () => number): RandAugmentOp[] {
  const r = new PyRandom(uniform);
  const names = cfg.increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS;
  const picked = Array.from(
    { length: cfg.numLayers },
    () => names[Math.min(names.length - 1, Math.floor(r.random() * names.length))]!,
  );
  return picked.map((name) => {
    if (r.random() > PROB) return { name, applied: false, args: [] };
    let m = cfg.magnitude;
    if (cfg.magnitudeStd > 0) m = r.gauss(m, cfg.magnitudeStd);
    m = Math.min(MAX_LEVEL, Math.max(0, m));
    return { name, applied: true, magnitude: m, args: LEVEL[name]?.(m, r) ?? [] };
  });
}

/** Runs drawn ops on a W x H HWC image; `px` may be changed in place; returns the result. */
export function applyRandAugment(
  px: Uint8Array,
  W: number,
  H: number,
  C: number,
  ops: readonly RandAugmentOp[],
  fill: readonly number[],
): Uint8Array {
  if (fill.length !== C) throw new RangeError(`randaugment: ${fill.length} fill values for ${C} channels`);
  let out = px;
  for (const op of ops) if (op.applied) out = APPLY[op.name]({ px: out, W, H, C }, op.args[0] ?? 0, fill);
  return out;
}

/** RandAugment of one W x H HWC image with the sample's uniforms; `px` may be changed in place. */
export function randAugment(
  px: Uint8Array,
  W: number,
  H: number,
  C: number,
  cfg: RandAugmentConfig,
  fill: readonly number[],
  uniform: () => number,
): Uint8Array {
  return applyRandAugment(px, W, H, C, randAugmentOps(cfg, uniform), fill);
}
