// randaugment_config.ts: the `--aa` string of main_finetune.py as timm 0.3.2's
// rand_augment_transform reads it (the timm the official MAE code ran), and the hyperparameters
// create_transform gives it. 'rand-m9-mstd0.5-inc1' (the official default) is 2 ops per image
// (n2), magnitude 9 (m9), magnitude noise std 0.5 (mstd0.5) and the "increasing" op list (inc1).
// Sections after 'rand' are split at their first digit into key and value: m (integer magnitude,
// default 10), n (integer number of ops, default 2), mstd (float std), inc (any value selects the
// increasing list: 0.3.2 tests bool() of the string, so even 'inc0' does), w (weighted op choice:
// refused here, not implemented); a section without a digit is ignored, as timm ignores it; other
// keys are errors. Current timm differs (no w; p, mmax and t keys; mstd > 100 samples the magnitude
// uniformly); 0.3.2 is followed. 'none' (or '') turns RandAugment off; AutoAugment policies and
// AugMix (other --aa values in timm) are not implemented.
// create_transform's aa_params: img_mean = min(255, round(255 * mean)) per channel (Python's
// half-even round) is the fill colour of the geometric ops (one value for a grey image, which PIL
// takes as the 'L' fill), interpolation bicubic (main_finetune passes 'bicubic'), and
// translate_const = int(0.45 * size), which only the absolute translations use, and RandAugment's
// lists have none (they translate by 0.45 of the size: translate_pct).
import { roundHalfEven } from './crop.js';

export interface RandAugmentConfig {
  /** the mean magnitude, 0 to 10 (timm's m) */
  magnitude: number;
  /** ops applied per image (timm's n) */
  numLayers: number;
  /** the std of the magnitude's normal noise (0: none) */
  magnitudeStd: number;
  /** the "increasing" op list (_RAND_INCREASING_TRANSFORMS) */
  increasing: boolean;
}

/** main_finetune.py's default --aa. */
export const DEFAULT_AA = 'rand-m9-mstd0.5-inc1';

/** The RandAugment of an --aa string, or undefined for 'none' / ''; throws RangeError naming what is wrong. */
export function parseRandAugment(aa: string): RandAugmentConfig | undefined {
  if (aa === '' || aa.toLowerCase() === 'none') return undefined;
  const [head, ...sections] = aa.split('-');
  if (head !== 'rand')
    throw new RangeError(
      `"${aa}" is not a RandAugment setting (rand-m<M>[-n<N>][-mstd<S>][-inc1], e.g. ${DEFAULT_AA}, or none); AutoAugment policies and AugMix are not implemented`,
    );
  const cfg: RandAugmentConfig = { magnitude: 10, numLayers: 2, magnitudeStd: 0, increasing: false };
  let stdSet = false;
  for (const section of sections) {
    const at = section.search(/\d/);
    if (at < 0) continue; // timm skips sections without a value
    const [key, val] = [section.slice(0, at), section.slice(at)];
    const int = (what: string, max: number) => {
      if (!/^\d+$/.test(val) || Number(val) > max)
        throw new RangeError(`"${aa}": ${what} (${key}) must be an integer 0-${max}, got ${val}`);
      return Number(val);
    };
    if (key === 'm') cfg.magnitude = int('the magnitude', 1000);
    else if (key === 'n') cfg.numLayers = int('the number of ops', 100);
    else if (key === 'mstd') {
      if (!/^\d+(\.\d*)?$/.test(val))
        throw new RangeError(`"${aa}": the magnitude std (mstd) must be a number, got ${val}`);
      if (!stdSet) cfg.magnitudeStd = Number(val); // hparams.setdefault: the first one counts
      stdSet = true;
    } else if (key === 'inc') cfg.increasing = true;
    else if (key === 'w') throw new RangeError(`"${aa}": the weighted op choice (w) is not implemented`);
    else throw new RangeError(`"${aa}": unknown RandAugment section "${section}"`);
  }
  return cfg;
}

/** create_transform's img_mean: the fill colour of the geometric ops for a dataset's mean. */
export function randAugmentFill(mean: readonly number[]): number[] {
  return mean.map((m) => Math.max(0, Math.min(255, roundHalfEven(255 * m))));
}
