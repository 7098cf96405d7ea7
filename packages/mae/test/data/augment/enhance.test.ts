// enhance.test.ts: ImageEnhance Color, Contrast, Brightness and Sharpness (enhance.ts) against
// Pillow 9.4 on random RGB and grey images of odd sizes (1 x 1 and 2 x 3 below the 3 x 3 SMOOTH
// filter's size), at RandAugment's factors (0.1 to 1.9, both sides of 1: blending and clipped
// extrapolation) and a few others, byte for byte.
import assert from 'node:assert/strict';
import {
  enhanceBrightness,
  enhanceColor,
  enhanceContrast,
  enhanceSharpness,
} from '../../../src/data/augment/enhance.js';
import { type PilCase, pilApply, SIZES, testImage } from './pil.js';
import { requirePython } from './python.js';

type Run = (px: Uint8Array, w: number, h: number, C: number, f: number) => Uint8Array;
const OPS: Record<string, Run> = {
  color: (px, _w, _h, C, f) => enhanceColor(px, C, f),
  contrast: (px, _w, _h, C, f) => enhanceContrast(px, C, f),
  brightness: (px, _w, _h, C, f) => enhanceBrightness(px, C, f),
  sharpness: (px, w, h, C, f) => enhanceSharpness(px, w, h, C, f),
};
const FACTORS = [0, 0.1, 0.37, 0.5, 1, 1.3, 1.9, 2.5];

describe('RandAugment ImageEnhance ops (enhance.ts)', () => {
  it('equal PIL ImageEnhance byte for byte on RGB and grey images', function () {
    requirePython(this, ['PIL']);
    const cases: PilCase[] = [];
    let k = 0;
    for (const op of Object.keys(OPS))
      for (const f of FACTORS)
        for (const [w, h] of SIZES)
          for (const C of [1, 3] as const)
            cases.push({ op, C, w, h, px: testImage(k++, w, h, C), args: [f] });
    const want = pilApply(cases);
    cases.forEach((c, i) => {
      const got = OPS[c.op]!(Uint8Array.from(c.px), c.w, c.h, c.C, c.args[0]!);
      assert.deepEqual(Array.from(got), want[i], `${c.op}(${c.args}) ${c.w}x${c.h}x${c.C}`);
    });
  });
});
