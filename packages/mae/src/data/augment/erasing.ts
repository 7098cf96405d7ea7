// erasing.ts: timm's RandomErasing (data/random_erasing.py, the same in 0.3.2 and now) as
// create_transform applies it: to one training image after ToTensor and Normalize, so the erased
// values are in normalised units (a CHW float32 image). main_finetune.py's defaults are --reprob
// 0.25, --remode pixel, --recount 1. The box draws (_erase), from a PyRandom over the sample's
// uniforms (pyrandom.ts), in timm's order:
//   skip the image when random() > prob; count = recount == 1 ? 1 : randint(1, recount); per box, up
//   to 10 attempts of: target_area = uniform(0.02, 1/3) * H * W / count, aspect = exp(uniform(
//   log 0.3, log(1/0.3))), h = round(sqrt(target_area * aspect)), w = round(sqrt(target_area /
//   aspect)) (Python's half-even round); when w < W and h < H: top = randint(0, H - h),
//   left = randint(0, W - w), the box is erased and the next box starts.
// The values: 'pixel' a standard normal per value of the box (C x h x w, in CHW order), 'rand' one
// normal per channel, 'const' 0. timm draws them with torch's normal_(), which no uniform reproduces;
// here they are PyRandom.gauss(0, 1) over a second stream of the sample, rounded to float32.
import { roundHalfEven } from './crop.js';
import { PyRandom } from './pyrandom.js';

export const ERASE_MODES = ['pixel', 'rand', 'const'] as const;
export type EraseMode = (typeof ERASE_MODES)[number];

export interface ErasingConfig {
  /** the probability of erasing an image (--reprob) */
  prob: number;
  /** the values written (--remode) */
  mode: EraseMode;
  /** the most boxes per image (--recount); the count is drawn from 1..maxCount */
  maxCount: number;
}

/** An erased box: rows top .. top + height - 1, columns left .. left + width - 1. */
export interface EraseBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

const MIN_AREA = 0.02;
const MAX_AREA = 1 / 3;
const MIN_ASPECT = 0.3;
const ATTEMPTS = 10;

/** The boxes RandomErasing erases in an H x W image, from the sample's uniforms (see the header). */
export function erasingBoxes(cfg: ErasingConfig, H: number, W: number, uniform: () => number): EraseBox[] {
  const r = new PyRandom(uniform);
  if (r.random() > cfg.prob) return [];
  const area = H * W;
  const count = cfg.maxCount === 1 ? 1 : r.randint(1, cfg.maxCount);
  const [lo, hi] = [Math.log(MIN_ASPECT), Math.log(1 / MIN_ASPECT)];
  const boxes: EraseBox[] = [];
  for (let b = 0; b < count; b++) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const target = (r.uniform(MIN_AREA, MAX_AREA) * area) / count;
      const aspect = Math.exp(r.uniform(lo, hi));
      const height = roundHalfEven(Math.sqrt(target * aspect));
      const width = roundHalfEven(Math.sqrt(target / aspect));
      if (width < W && height < H) {
        const top = r.randint(0, H - height);
        const left = r.randint(0, W - width);
        boxes.push({ top, left, height, width });
        break;
      }
    }
  }
  return boxes;
}

/**
 * RandomErasing of the CHW float32 image at `offset` of `img` (C x H x W, normalised), in place:
 * boxes from `boxUniform`, normal values from `valueUniform` (two streams of the sample).
 */
export function randomErase(
  img: Float32Array,
  offset: number,
  C: number,
  H: number,
  W: number,
  cfg: ErasingConfig,
  boxUniform: () => number,
  valueUniform: () => number,
): EraseBox[] {
  const boxes = erasingBoxes(cfg, H, W, boxUniform);
  const g = new PyRandom(valueUniform);
  const normal = () => Math.fround(g.gauss(0, 1));
  for (const { top, left, height, width } of boxes) {
    const perChannel = cfg.mode === 'rand' ? Array.from({ length: C }, normal) : undefined;
    for (let c = 0; c < C; c++)
      for (let y = top; y < top + height; y++)
        for (let x = left; x < left + width; x++)
          img[offset + (c * H + y) * W + x] =
            cfg.mode === 'pixel' ? normal() : cfg.mode === 'rand' ? perChannel![c]! : 0;
  }
  return boxes;
}
