// series.ts: a plot of a few named series over a shared numeric x axis (e.g. accuracy against the
// mask ratio): each series a coloured polyline with a small square at every point, a legend of the
// names in their colours, axes as the loss plot's (axes.ts).
import { drawAxes, line, niceTicks, type Rgb, valueRange } from './axes.js';
import { drawText, textWidth } from './font.js';
import { blankImage, type RasterImage } from './png.js';

const COLOURS: readonly Rgb[] = [
  [20, 60, 160],
  [200, 80, 20],
  [30, 130, 60],
  [140, 40, 140],
];

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
}

export interface SeriesPlotOptions {
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

function square(img: RasterImage, x: number, y: number, rgb: Rgb): void {
  for (let d = -2; d <= 2; d++) line(img, x - 2, y + d, x + 2, y + d, rgb);
}

/** The series drawn over axes covering all their points. */
export function seriesPlot(series: readonly Series[], o: SeriesPlotOptions): RasterImage {
  for (const s of series)
    if (s.x.length !== s.y.length)
      throw new RangeError(`seriesPlot: ${s.name} has ${s.x.length} x and ${s.y.length} y`);
  const img = blankImage(o.width ?? 720, o.height ?? 420, [255, 255, 255]);
  const x = niceTicks(...valueRange(series.flatMap((s) => s.x)), 6);
  const y = niceTicks(...valueRange(series.flatMap((s) => s.y)));
  const { px, py, right } = drawAxes(img, x, y, o.xLabel, o.yLabel);
  let legendRight = right;
  series.forEach((s, k) => {
    const rgb = COLOURS[k % COLOURS.length]!;
    for (let i = 0; i < s.x.length; i++) {
      square(img, Math.round(px(s.x[i]!)), Math.round(py(s.y[i]!)), rgb);
      if (i > 0) line(img, px(s.x[i - 1]!), py(s.y[i - 1]!), px(s.x[i]!), py(s.y[i]!), rgb);
    }
    legendRight -= textWidth(s.name);
    drawText(img, s.name, legendRight, 22, rgb);
    legendRight -= 16;
  });
  return img;
}
