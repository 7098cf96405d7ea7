// plot.ts: a loss-curve image drawn by hand: white background, axes (axes.ts), the raw
// per-step values in light blue and their moving average in dark blue (a legend says which). The
// values themselves are in loss.csv.
import { drawAxes, line, niceTicks, type Rgb, valueRange } from './axes.js';
import { drawText, textWidth } from './font.js';
import { blankImage, type RasterImage } from './png.js';

const RAW: Rgb = [160, 190, 235];
const AVERAGE: Rgb = [20, 60, 160];

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
  const y = niceTicks(...valueRange(values));
  const n = Math.max(values.length, 1);
  const x = niceTicks(0, Math.max(n, 5), 6); // whole steps
  const { px, py, left, right } = drawAxes(img, x, y, xLabel, yLabel);
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
