// series.test.ts: the series plot puts each point at its place on the axes, in its series' colour,
// with a legend, and refuses a series whose x and y differ in length.
import assert from 'node:assert/strict';
import { niceTicks } from '../../src/viz/axes.js';
import type { RasterImage } from '../../src/viz/png.js';
import { seriesPlot } from '../../src/viz/series.js';

function colourAt(img: RasterImage, x: number, y: number): number[] {
  const at = (Math.round(y) * img.width + Math.round(x)) * 3;
  return [img.pixels[at]!, img.pixels[at + 1]!, img.pixels[at + 2]!];
}

describe('series plot', () => {
  const x = [25, 50, 75, 90];
  const a = { name: 'fine-tune', x, y: [80, 84, 85, 82] };
  const b = { name: 'linear probe', x, y: [60, 66, 70, 64] };
  const img = seriesPlot([a, b], { xLabel: 'mask ratio (%)', yLabel: 'top-1 (%)' });

  it('draws every point where the axes put it, in its series colour', () => {
    // the frame of axes.ts: x from 64 to width - 24, y from height - 40 up to 44, over the ticks
    const xt = niceTicks(25, 90, 6).ticks;
    const yt = niceTicks(60, 85).ticks;
    const px = (v: number) => 64 + ((720 - 24 - 64) * (v - xt[0]!)) / (xt.at(-1)! - xt[0]!);
    const py = (v: number) => 420 - 40 - ((420 - 40 - 44) * (v - yt[0]!)) / (yt.at(-1)! - yt[0]!);
    for (let i = 0; i < x.length; i++) {
      assert.deepEqual(colourAt(img, px(x[i]!), py(a.y[i]!)), [20, 60, 160], `${a.name} point ${i}`);
      assert.deepEqual(colourAt(img, px(x[i]!), py(b.y[i]!)), [200, 80, 20], `${b.name} point ${i}`);
    }
    assert.notDeepEqual(colourAt(img, px(50), py(75)), [20, 60, 160], 'nothing between the curves');
  });

  it('refuses a series with more x than y', () => {
    assert.throws(
      () => seriesPlot([{ name: 's', x: [1, 2], y: [1] }], { xLabel: 'x', yLabel: 'y' }),
      /s has 2 x and 1 y/,
    );
  });
});
