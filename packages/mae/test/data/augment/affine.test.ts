// affine.test.ts: Image.transform(AFFINE, BICUBIC, fillcolor) and Image.rotate(BICUBIC, fillcolor)
// (affine.ts) against Pillow 9.4 on random RGB and grey ('L', fill given as a 1-tuple as timm
// passes it) images of odd sizes: RandAugment's shears, relative translations and rotations at
// fixed and random levels of both signs, byte for byte.
import assert from 'node:assert/strict';
import { affineBicubic, rotateBicubic, rotateMatrix } from '../../../src/data/augment/affine.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { type PilCase, pilApply, SIZES, testImage } from './pil.js';
import { requirePython } from './python.js';

const FILL = { 1: [33], 3: [124, 116, 104] } as const;

/** The affine matrices of RandAugment's shears and translations at level v of a w x h image. */
function matrices(v: number, w: number, h: number): number[][] {
  return [
    [1, 0.3 * v, 0, 0, 1, 0],
    [1, 0, 0, 0.3 * v, 1, 0],
    [1, 0, 0.45 * v * w, 0, 1, 0],
    [1, 0, 0, 0, 1, 0.45 * v * h],
  ];
}

describe('RandAugment geometric ops (affine.ts)', () => {
  it('equal PIL transform(AFFINE) and rotate with bicubic and a fill colour, byte for byte', function () {
    requirePython(this, ['PIL']);
    const u = sampleRandom(11, 0, 0);
    const levels = [0, -0, 1, -1, 0.5, -0.123, 0.9, ...Array.from({ length: 6 }, () => 2 * u() - 1)];
    const cases: PilCase[] = [];
    let k = 0;
    for (const [w, h] of SIZES)
      for (const C of [1, 3] as const)
        for (const v of levels) {
          for (const m of matrices(v, w, h))
            cases.push({ op: 'affine', C, w, h, px: testImage(k++, w, h, C), args: m, fill: [...FILL[C]] });
          const deg = 30 * v;
          cases.push({ op: 'rotate', C, w, h, px: testImage(k++, w, h, C), args: [deg], fill: [...FILL[C]] });
        }
    const want = pilApply(cases);
    let changed = 0;
    cases.forEach((c, i) => {
      const src = Uint8Array.from(c.px);
      const got =
        c.op === 'rotate'
          ? rotateBicubic(src, c.w, c.h, c.C, c.args[0]!, c.fill!)
          : affineBicubic(src, c.w, c.h, c.C, c.args, c.fill!);
      assert.deepEqual(Array.from(got), want[i], `${c.op}(${c.args}) ${c.w}x${c.h}x${c.C}`);
      if (want[i]!.some((b, j) => b !== c.px[j])) changed++;
    });
    assert.ok(changed > cases.length / 2, `${changed} of ${cases.length} cases change the image`);
  });

  it("rotate's matrix: a copy at 0 degrees (and -0, 360), Python's modulo for negative angles", () => {
    for (const d of [0, -0, 360, -360]) assert.equal(rotateMatrix(d, 5, 5), undefined);
    // -30 is 330: PIL's matrix maps output to input, so its sine term is +sin(30) (rounded to 15 places)
    const m = rotateMatrix(-30, 28, 28)!;
    assert.deepEqual(m.slice(0, 2), [0.866025403784438, 0.5]);
    assert.throws(() => rotateMatrix(90, 5, 5), /transpose/);
  });
});
