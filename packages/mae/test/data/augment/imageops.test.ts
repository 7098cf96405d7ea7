// imageops.test.ts: autocontrast, equalize, invert, posterize, solarize and solarize_add
// (imageops.ts) against Pillow 9.4's ImageOps (and timm's solarize_add as a point table) on random
// RGB and grey images of odd sizes, byte for byte.
import assert from 'node:assert/strict';
import {
  autocontrast,
  equalize,
  invert,
  posterize,
  solarize,
  solarizeAdd,
} from '../../../src/data/augment/imageops.js';
import { type PilCase, pilApply, SIZES, testImage } from './pil.js';
import { requirePython } from './python.js';

const OPS: Record<string, { run: (px: Uint8Array, C: number, a: number) => Uint8Array; args: number[] }> = {
  autocontrast: { run: (px, C) => autocontrast(px, C), args: [0] },
  equalize: { run: (px, C) => equalize(px, C), args: [0] },
  invert: { run: (px, C) => invert(px, C), args: [0] },
  posterize: { run: posterize, args: [0, 1, 2, 3, 4, 7, 8] },
  solarize: { run: solarize, args: [0, 26, 128, 200, 256] },
  solarizeAdd: { run: solarizeAdd, args: [0, 33, 99, 110] },
};

describe('RandAugment pixel ops (imageops.ts)', () => {
  it('equal PIL ImageOps byte for byte on RGB and grey images', function () {
    requirePython(this, ['PIL']);
    const cases: PilCase[] = [];
    let k = 0;
    for (const [op, { args }] of Object.entries(OPS))
      for (const a of args)
        for (const [w, h] of SIZES)
          for (const C of [1, 3] as const)
            cases.push({ op, C, w, h, px: testImage(k++, w, h, C), args: [a] });
    const want = pilApply(cases);
    cases.forEach((c, i) => {
      const got = OPS[c.op]!.run(Uint8Array.from(c.px), c.C, c.args[0]!);
      assert.deepEqual(Array.from(got), want[i], `${c.op}(${c.args}) ${c.w}x${c.h}x${c.C}`);
    });
  });

  it('equalize and autocontrast leave a one-value image as it is', () => {
    const px = new Uint8Array(5 * 3 * 3).fill(77);
    assert.deepEqual(equalize(px.slice(), 3), px);
    assert.deepEqual(autocontrast(px.slice(), 3), px);
  });
});
