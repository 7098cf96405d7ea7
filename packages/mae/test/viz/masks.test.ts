// masks.test.ts: the mask sampling figure: its size, the image in the first cell, and each mask's
// removed patches grey (MASK_GREY) and kept ones the image's pixels.
import assert from 'node:assert/strict';
import { maskFigure } from '../../src/viz/masks.js';
import { MASK_GREY } from '../../src/viz/recon.js';

describe('maskFigure', () => {
  it('draws the image, then the image under each mask with removed patches grey', () => {
    const [size, patch, gap, scale] = [8, 4, 2, 2];
    const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 5) % 251);
    const masks = [Float32Array.of(1, 0, 0, 1), Float32Array.of(0, 0, 0, 1)];
    const f = maskFigure({ rgb, size, patch, masks }, scale, gap);
    const cell = size * scale;
    assert.equal(f.width, 3 * (cell + gap) + gap);
    assert.equal(f.height, cell + 2 * gap);
    const at = (col: number, y: number, x: number) =>
      Array.from(
        f.pixels
          .subarray(((gap + y * scale) * f.width + gap + col * (cell + gap) + x * scale) * 3)
          .slice(0, 3),
      );
    const img = (y: number, x: number) =>
      Array.from(rgb.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));
    const grey = Array(3).fill(Math.round(MASK_GREY * 255));
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        assert.deepEqual(at(0, y, x), img(y, x));
        const l = Math.floor(y / patch) * 2 + Math.floor(x / patch);
        masks.forEach((m, k) =>
          assert.deepEqual(at(k + 1, y, x), m[l] ? grey : img(y, x), `mask ${k}, (${y}, ${x})`),
        );
      }
  });

  it('refuses a mask or an image of the wrong size', () => {
    const rgb = new Uint8Array(8 * 8 * 3);
    assert.throws(
      () => maskFigure({ rgb, size: 8, patch: 4, masks: [new Float32Array(5)] }),
      /a mask of 5 patches, expected 4/,
    );
    assert.throws(() => maskFigure({ rgb, size: 8, patch: 3, masks: [] }), /RGB image of 3-pixel patches/);
  });
});
