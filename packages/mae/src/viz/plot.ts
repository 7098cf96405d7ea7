// plot.ts: a loss-curve image drawn by hand: white background, axes, light horizontal grid lines at
// a quarter of the range each, the raw per-step values in light blue and their moving average in
// dark blue. No text: the values themselves are in log.jsonl.
import { blankImage, type RasterImage } from './png.js';

type Rgb = readonly [number, number, number];

function line(img: RasterImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / steps);
    const y = Math.round(y0 + ((y1 - y0) * s) / steps);
    if (x >= 0 && y >= 0 && x < img.width && y < img.height) img.pixels.set(rgb, (y * img.width + x) * 3);
  }
}

/** Moving average over a trailing window. */
export function movingAverage(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/** A line plot of values (e.g. the loss of each step). */
export function lossPlot(values: readonly number[], width = 640, height = 360): RasterImage {
  const img = blankImage(width, height, [255, 255, 255]);
  const m = 24;
  const [left, right, top, bottom] = [m, width - m, m, height - m];
  for (let k = 0; k <= 4; k++) {
    const y = Math.round(top + ((bottom - top) * k) / 4);
    line(img, left, y, right, y, [225, 225, 225]);
  }
  line(img, left, top, left, bottom, [0, 0, 0]);
  line(img, left, bottom, right, bottom, [0, 0, 0]);
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return img;
  // a loop, not Math.min(...finite): a long run's history overflows the argument stack
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of finite) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const px = (i: number) => left + ((right - left) * i) / Math.max(values.length - 1, 1);
  const py = (v: number) => bottom - ((bottom - top) * (v - lo)) / (hi - lo);
  const draw = (vs: readonly number[], rgb: Rgb) => {
    for (let i = 1; i < vs.length; i++)
      if (Number.isFinite(vs[i - 1]!) && Number.isFinite(vs[i]!))
        line(img, px(i - 1), py(vs[i - 1]!), px(i), py(vs[i]!), rgb);
    if (vs.length === 1) line(img, left, py(vs[0]!), right, py(vs[0]!), rgb);
  };
  draw(values, [160, 190, 235]);
  draw(movingAverage(values, Math.max(1, Math.round(values.length / 50))), [20, 60, 160]);
  return img;
}
