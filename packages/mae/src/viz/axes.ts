// axes.ts: what the plots share: straight lines, round tick values, and a frame with axes, tick marks,
// tick labels, light grid lines at the y ticks and the axes' names (with their units).
import { drawText, GLYPH_HEIGHT, textWidth } from './font.js';
import type { RasterImage } from './png.js';

export type Rgb = readonly [number, number, number];

export const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];

export function line(img: RasterImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / steps);
    const y = Math.round(y0 + ((y1 - y0) * s) / steps);
    if (x >= 0 && y >= 0 && x < img.width && y < img.height) img.pixels.set(rgb, (y * img.width + x) * 3);
  }
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

/** The finite range of some values, widened when empty or flat. */
export function valueRange(values: Iterable<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  // a loop, not Math.min(...values): a long run's history overflows the argument stack
  for (const v of values)
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  if (!Number.isFinite(lo)) return [0, 1];
  return hi - lo < 1e-12 ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

export interface Frame {
  /** pixel x of a data x */
  px(x: number): number;
  /** pixel y of a data y */
  py(y: number): number;
  left: number;
  right: number;
  top: number;
}

/**
 * Axes over [x ticks] x [y ticks] (each from niceTicks) in an image, the names beside them; returns
 * the mapping from data to pixels.
 */
export function drawAxes(
  img: RasterImage,
  x: { ticks: number[]; decimals: number },
  y: { ticks: number[]; decimals: number },
  xLabel: string,
  yLabel: string,
): Frame {
  const [left, right, top, bottom] = [64, img.width - 24, 44, img.height - 40];
  drawText(img, yLabel, 8, 8, BLACK);
  drawText(img, xLabel, Math.round((left + right - textWidth(xLabel)) / 2), img.height - 14, BLACK);
  const [x0, x1, y0, y1] = [x.ticks[0]!, x.ticks.at(-1)!, y.ticks[0]!, y.ticks.at(-1)!];
  const px = (v: number) => left + ((right - left) * (v - x0)) / (x1 - x0);
  const py = (v: number) => bottom - ((bottom - top) * (v - y0)) / (y1 - y0);
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
  return { px, py, left, right, top };
}
