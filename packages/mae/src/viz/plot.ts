// plot.ts: a loss-curve image drawn by hand: white background, axes with tick marks and tick labels
// at round values, light grid lines at the y ticks, the axes' names with their units, the raw
// per-step values in light blue and their moving average in dark blue (a legend says which). The
// values themselves are in loss.csv.
import { drawText, GLYPH_HEIGHT, textWidth } from './font.js';
import { blankImage, type RasterImage } from './png.js';

type Rgb = readonly [number, number, number];

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const RAW: Rgb = [160, 190, 235];
const AVERAGE: Rgb = [20, 60, 160];

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

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; decimals: number } {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks = Array.from({ length: last - first + 1 }, (_, k) => (first + k) * step);
  return { ticks, decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

export interface LossPlotOptions {
  /** the y axis's name with its unit */
  yLabel?: string;
  /** the x axis's name */
  xLabel?: string;
  width?: number;
  height?: number;
}

/** A line plot of values (the loss of each optimiser step, the first being step 1). */
export function lossPlot(values: readonly number[], o: LossPlotOptions = {}): RasterImage {
  const { width = 720, height = 420, yLabel = 'loss', xLabel = 'optimiser step' } = o;
  const img = blankImage(width, height, [255, 255, 255]);
  const [left, right, top, bottom] = [64, width - 24, 44, height - 40];
  drawText(img, yLabel, 8, 8, BLACK);
  drawText(img, xLabel, Math.round((left + right - textWidth(xLabel)) / 2), height - 14, BLACK);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  // a loop, not Math.min(...values): a long run's history overflows the argument stack
  for (const v of values)
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
  const y = niceTicks(lo, hi);
  [lo, hi] = [y.ticks[0]!, y.ticks.at(-1)!];
  const n = Math.max(values.length, 1);
  const x = niceTicks(0, Math.max(n, 5), 6); // whole steps
  const xMax = x.ticks.at(-1)!;
  const px = (step: number) => left + ((right - left) * step) / xMax;
  const py = (v: number) => bottom - ((bottom - top) * (v - lo)) / (hi - lo);
  for (const t of y.ticks) {
    const at = Math.round(py(t));
    line(img, left + 1, at, right, at, GRID);
    line(img, left - 4, at, left, at, BLACK);
    const label = t.toFixed(y.decimals);
    drawText(img, label, left - 7 - textWidth(label), at - (GLYPH_HEIGHT >> 1), BLACK);
  }
  for (const t of x.ticks) {
    const at = Math.round(px(t));
    line(img, at, bottom, at, bottom + 4, BLACK);
    const label = t.toFixed(x.decimals);
    drawText(img, label, at - (textWidth(label) >> 1), bottom + 8, BLACK);
  }
  line(img, left, top, left, bottom, BLACK);
  line(img, left, bottom, right, bottom, BLACK);
  const window = Math.max(1, Math.round(values.length / 50));
  const legend = `light: each step   dark: mean of the last ${window}`;
  drawText(img, legend, right - textWidth(legend), 22, AVERAGE);
  const draw = (vs: readonly number[], rgb: Rgb) => {
    for (let i = 1; i < vs.length; i++)
      if (Number.isFinite(vs[i - 1]!) && Number.isFinite(vs[i]!))
        line(img, px(i), py(vs[i - 1]!), px(i + 1), py(vs[i]!), rgb);
    if (vs.length === 1 && Number.isFinite(vs[0]!)) line(img, left, py(vs[0]!), right, py(vs[0]!), rgb);
  };
  draw(values, RAW);
  draw(movingAverage(values, window), AVERAGE);
  return img;
}
