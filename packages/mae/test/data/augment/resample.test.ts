// resample.test.ts: resizeBicubic against PIL's resize(BICUBIC) on real photographs, shrinking and
// enlarging. Stated tolerance: at most 1 level anywhere and a mean under 0.01 levels (it is a
// transcription of Pillow's fixed-point code; measured: identical, 0 levels).
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { CropBox } from '../../../src/data/augment/crop.js';
import { cropParams } from '../../../src/data/augment/crop.js';
import { cropHwc } from '../../../src/data/augment/pixels.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { resizeBicubic } from '../../../src/data/augment/resample.js';
import { requirePhotos } from './photos.js';
import { requirePython, runPython } from './python.js';

const PIL_RESIZE_PY = `
import json, sys
from PIL import Image
c = json.load(sys.stdin)
im = Image.open(c['path']).convert('RGB')
for (t, l, h, w, s) in c['boxes']:
    sys.stdout.buffer.write(im.crop((l, t, l + w, t + h)).resize((s, s), Image.BICUBIC).tobytes())
`;

function boxesFor(W: number, H: number): { box: CropBox; size: number }[] {
  const fixed: CropBox[] = [
    { top: 0, left: 0, height: H, width: W },
    { top: 5, left: 7, height: 100, width: 80 },
    { top: 1, left: 2, height: 37, width: 301 },
  ];
  const random = Array.from({ length: 6 }, (_, i) =>
    cropParams(W, H, [0.2, 1], [3 / 4, 4 / 3], sampleRandom(11, 0, i)),
  );
  return [...fixed, ...random].flatMap((box) => [224, 96].map((size) => ({ box, size })));
}

describe('resizeBicubic', () => {
  it('matches PIL resize(BICUBIC) on real photographs within 1 level (mean < 0.01)', async function () {
    requirePython(this, ['PIL']);
    for (const path of requirePhotos(this)) {
      const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const cases = boxesFor(info.width, info.height);
      const boxes = cases.map(({ box, size }) => [box.top, box.left, box.height, box.width, size]);
      const pil = runPython(PIL_RESIZE_PY, [], JSON.stringify({ path, boxes }));
      let at = 0;
      for (const { box, size } of cases) {
        const got = resizeBicubic(cropHwc(data, info.width, 3, box), box.width, box.height, 3, size, size);
        const want = pil.subarray(at, at + got.length);
        at += got.length;
        let max = 0;
        let sum = 0;
        for (let i = 0; i < got.length; i++) {
          const d = Math.abs(got[i] - want[i]);
          max = Math.max(max, d);
          sum += d;
        }
        const what = `${path} box ${JSON.stringify(box)} -> ${size}`;
        assert.ok(max <= 1 && sum / got.length < 0.01, `${what}: max ${max}, mean ${sum / got.length}`);
      }
      assert.equal(at, pil.length);
    }
  });

  it('keeps a constant image constant, any size and channel count', () => {
    for (const [w, h, ch, s] of [
      [300, 200, 3, 224],
      [50, 70, 1, 224],
      [224, 100, 3, 224],
      [7, 224, 1, 224],
    ]) {
      const out = resizeBicubic(new Uint8Array(w * h * ch).fill(173), w, h, ch, s, s);
      assert.equal(out.length, s * s * ch);
      assert.ok(
        out.every((v) => v === 173),
        `${w}x${h}x${ch}`,
      );
    }
  });

  it('returns a copy at the same size, and refuses a wrong buffer length', () => {
    const src = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const out = resizeBicubic(src, 2, 2, 3, 2, 2);
    assert.deepEqual(out, src);
    assert.notEqual(out, src);
    assert.throws(() => resizeBicubic(src, 3, 2, 3, 4, 4), RangeError);
  });
});
