// recon.test.ts: patchify/unpatchify ('nhwpqc') are inverse, the norm_pix_loss prediction maps back
// to pixels, and the figure has the four columns: original, masked (grey), reconstruction, pasted.
import assert from 'node:assert/strict';
import { denormPixPred, patchify, reconstructionGrid, unpatchify } from '../../src/viz/recon.js';

describe('reconstruction figure', () => {
  it('unpatchify inverts patchify, channel innermost in a patch', () => {
    const imgs = Float32Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => i);
    const p = patchify(imgs, 2, 3, 4, 2);
    // patch (0, 0) of image 0: pixel (0, 0) of channels 0, 1, 2 first
    assert.deepEqual([...p.subarray(0, 3)], [0, 16, 32]);
    assert.deepEqual(unpatchify(p, 2, 3, 4, 2), imgs);
  });

  it('maps a norm_pix_loss prediction back with the target patch statistics', () => {
    const target = Float32Array.from([1, 2, 3, 6]);
    const mean = 3;
    const sd = Math.sqrt((4 + 1 + 0 + 9) / 3 + 1e-6);
    const normalised = target.map((t) => (t - mean) / sd);
    const back = denormPixPred(normalised, target, 4);
    back.forEach((v, i) => assert.ok(Math.abs(v - target[i]!) < 1e-5));
  });

  it('draws original | masked | reconstruction | pasted', () => {
    // one 2x2 image of 4 patches of 1 pixel; patch 1 removed; prediction 0.25 everywhere (display)
    const imgs = Float32Array.from([1, 1, 1, 1]);
    const pred = Float32Array.from([0.25, 0.25, 0.25, 0.25]);
    const g = reconstructionGrid(
      {
        imgs,
        pred,
        mask: Float32Array.from([0, 1, 0, 0]),
        N: 1,
        C: 1,
        size: 2,
        patch: 1,
        normPixLoss: false,
        mean: [0],
        std: [1],
      },
      1,
      1,
    );
    assert.equal(g.width, 4 * 2 + 5);
    assert.equal(g.height, 2 + 2);
    const px = (col: number, y: number, x: number) => g.pixels[((1 + y) * g.width + 1 + col * 3 + x) * 3]!;
    assert.deepEqual([px(0, 0, 0), px(0, 0, 1)], [255, 255]);
    assert.deepEqual([px(1, 0, 0), px(1, 0, 1)], [255, 128]);
    assert.deepEqual([px(2, 0, 0), px(2, 0, 1)], [64, 64]);
    assert.deepEqual([px(3, 0, 0), px(3, 0, 1)], [255, 64]);
  });
});
