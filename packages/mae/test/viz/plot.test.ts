// plot.test.ts: loss.png's parts: round tick values, the 5x7 font (a glyph's pixels, widths), and a
// plot that carries its axes' names, tick labels and both curves.
import assert from 'node:assert/strict';
import { niceTicks } from '../../src/viz/axes.js';
import { drawText, GLYPH_ADVANCE, textWidth } from '../../src/viz/font.js';
import { lossPlot, movingAverage } from '../../src/viz/plot.js';
import { blankImage, type RasterImage } from '../../src/viz/png.js';

/** Whether any pixel of the box [x0, x1) x [y0, y1) is the colour rgb. */
function has(img: RasterImage, x0: number, y0: number, x1: number, y1: number, rgb: number[]): boolean {
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const at = (y * img.width + x) * 3;
      if (rgb.every((v, c) => img.pixels[at + c] === v)) return true;
    }
  return false;
}

describe('loss plot', () => {
  it('puts ticks at round values covering the range', () => {
    assert.deepEqual(niceTicks(0.53, 2.31), { ticks: [0.5, 1, 1.5, 2, 2.5], decimals: 1 });
    assert.deepEqual(niceTicks(0, 768, 6), { ticks: [0, 200, 400, 600, 800], decimals: 0 });
    const small = niceTicks(0.0612, 0.0688);
    assert.equal(small.decimals, 3);
    assert.ok(small.ticks[0]! <= 0.0612 && small.ticks.at(-1)! >= 0.0688);
  });

  it('draws the 5x7 glyphs pixel by pixel', () => {
    const img = blankImage(12, 7, [255, 255, 255]);
    drawText(img, '1-', 0, 0, [0, 0, 0]);
    const row = (y: number) =>
      Array.from({ length: 12 }, (_, x) => (img.pixels[(y * 12 + x) * 3] === 0 ? '#' : '.')).join('');
    // '1' is 0x04, 0x0c, 0x04, ..., 0x0e; '-' a bar on the fourth row
    assert.equal(row(0), '..#.........');
    assert.equal(row(1), '.##.........');
    assert.equal(row(3), '..#...#####.');
    assert.equal(row(6), '.###........');
    assert.equal(textWidth('loss'), 3 * GLYPH_ADVANCE + 5);
    assert.equal(textWidth('loss', 2), 2 * (3 * GLYPH_ADVANCE + 5));
  });

  it('writes the axis names and tick labels, and both curves', () => {
    const values = Array.from({ length: 200 }, (_, i) => 0.6 + 1.5 * Math.exp(-i / 30));
    const img = lossPlot(values, { yLabel: 'loss (unit)', xLabel: 'step' });
    assert.equal(img.width, 720);
    const black = [0, 0, 0];
    assert.ok(has(img, 8, 8, 8 + textWidth('loss (unit)'), 15, black), 'the y axis name');
    assert.ok(has(img, 340, img.height - 14, 380, img.height - 7, black), 'the x axis name');
    assert.ok(has(img, 0, 40, 58, img.height - 40, black), 'the y tick labels');
    assert.ok(has(img, 60, img.height - 32, 700, img.height - 24, black), 'the x tick labels');
    assert.ok(has(img, 64, 44, 700, 380, [160, 190, 235]), 'the raw curve');
    assert.ok(has(img, 64, 44, 700, 380, [20, 60, 160]), 'the moving average');
    assert.deepEqual(movingAverage([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5]);
  });

  it('draws axes for an empty or flat history without throwing', () => {
    for (const v of [[], [1], [2, 2, 2], [Number.NaN, 1]]) assert.equal(lossPlot(v).height, 420);
  });
});
