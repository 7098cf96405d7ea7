// resize_crop.test.ts: the fixed-size and centre crops (resize_crop.ts) against torchvision's
// Resize(size, BICUBIC) + RandomCrop / CenterCrop (+ hflip) on PIL images, RandomCrop's draws
// transcribed on the same uniforms: the same output size and box, pixels within 1 level of PIL's
// bicubic resize (as resample.test.ts); and the resize size of the official evaluation transform.
import assert from 'node:assert/strict';
import { evalResizeSize } from '../../../src/data/augment/modes.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { centerCropBox, resizedSize, resizeThenCrop } from '../../../src/data/augment/resize_crop.js';
import { requirePython, runPython } from './python.js';

// RandomCrop.get_params: i = torch.randint(0, h - th + 1), then j = torch.randint(0, w - tw + 1),
// each as floor(u * n) over the uniforms; CenterCrop and Resize are torchvision's own.
const RESIZE_CROP_PY = `
import json, math, sys
from PIL import Image
import torchvision.transforms as T
import torchvision.transforms.functional as F
out = []
for c in json.load(sys.stdin):
    us = iter(c['u'])
    img = Image.frombytes('RGB', (c['w'], c['h']), bytes(c['px']))
    img = T.Resize(c['resize'], interpolation=T.InterpolationMode.BICUBIC)(img)
    rw, rh = img.size
    S = c['S']
    if c['kind'] == 'random':
        i = min(rh - S, math.floor(next(us) * (rh - S + 1)))
        j = min(rw - S, math.floor(next(us) * (rw - S + 1)))
        img = F.crop(img, i, j, S, S)
    else:
        img = T.CenterCrop(S)(img)
    if c['flip']:
        img = F.hflip(img)
    out.append({'size': [rw, rh], 'px': list(img.tobytes())})
print(json.dumps(out))
`;

describe('resizeThenCrop', () => {
  it('equals torchvision Resize + RandomCrop / CenterCrop (+ hflip) on the same uniforms', function () {
    requirePython(this, ['torchvision', 'PIL']);
    const cases = [];
    const sizes = [
      [40, 30],
      [30, 40],
      [33, 33],
      [61, 17],
      [17, 45],
      [28, 28],
    ];
    for (const [k, [w, h]] of sizes.entries())
      for (const kind of ['random', 'center'] as const) {
        const S = k % 2 ? 16 : 12;
        const rnd = sampleRandom(k, 3, kind === 'random' ? 0 : 1);
        const px = Array.from({ length: w! * h! * 3 }, () => Math.floor(256 * rnd()));
        cases.push({
          w: w!,
          h: h!,
          S,
          resize: evalResizeSize(S) + (k % 3),
          kind,
          flip: k % 2 === 0,
          px,
          u: [rnd(), rnd()],
        });
      }
    const want = JSON.parse(runPython(RESIZE_CROP_PY, [], JSON.stringify(cases)).toString()) as {
      size: [number, number];
      px: number[];
    }[];
    cases.forEach((c, k) => {
      const what = `${c.w}x${c.h} -> ${c.resize} ${c.kind}${c.flip ? ' flipped' : ''}`;
      assert.deepEqual(resizedSize(c.w, c.h, c.resize), want[k]!.size, what);
      const us = c.u[Symbol.iterator]();
      const got = resizeThenCrop(
        new Uint8Array(c.S * c.S * 3),
        Uint8Array.from(c.px),
        c.w,
        c.h,
        3,
        { ...c, size: c.S },
        () => us.next().value!,
      );
      let max = 0;
      let sum = 0;
      got.forEach((v, i) => {
        const d = Math.abs(v - want[k]!.px[i]!);
        max = Math.max(max, d);
        sum += d;
      });
      // noise images: a box one pixel off would differ by far more than a level
      assert.ok(max <= 1 && sum / got.length < 0.05, `${what}: max ${max}, mean ${sum / got.length}`);
    });
  });

  it('uses the official evaluation resize (int(S / (224/256)) up to 224, S above) and centres as round()', () => {
    assert.equal(evalResizeSize(224), 256);
    assert.equal(evalResizeSize(28), 32);
    assert.equal(evalResizeSize(32), 36);
    assert.equal(evalResizeSize(384), 384);
    assert.deepEqual(centerCropBox(37, 36, 32), { top: 2, left: 2, height: 32, width: 32 });
    assert.deepEqual(centerCropBox(35, 32, 32), { top: 0, left: 2, height: 32, width: 32 });
    assert.throws(() => centerCropBox(20, 40, 32), /does not fit/);
  });
});
