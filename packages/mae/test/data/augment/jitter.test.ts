// jitter.test.ts: ColorJitter(0.4, 0.4, 0.4) (jitter.ts) against torchvision's own adjust_brightness,
// adjust_contrast and adjust_saturation on PIL images (ImageEnhance), in the order and with the
// factors of a Python transcription of ColorJitter.get_params on the same uniforms: byte for byte.
import assert from 'node:assert/strict';
import { applyJitter, jitterParams } from '../../../src/data/augment/jitter.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { requirePython, runPython } from './python.js';

// ColorJitter.get_params with torch's draws replaced by the uniforms (randperm as Fisher-Yates over
// brightness, contrast, saturation; hue 0 is skipped), then forward's loop with torchvision's F.
const JITTER_PY = `
import json, math, sys
from PIL import Image
import torchvision.transforms.functional as F
out = []
for c in json.load(sys.stdin):
    us = iter(c['u'])
    order = [0, 1, 2]
    for i in (2, 1):
        j = min(i, math.floor(next(us) * (i + 1)))
        order[i], order[j] = order[j], order[i]
    s = c['s']
    lo = max(0, 1 - s)
    f = [lo + (1 + s - lo) * next(us) for _ in range(3)]
    img = Image.frombytes('RGB' if c['C'] == 3 else 'L', (c['w'], c['h']), bytes(c['px']))
    for k in order:
        img = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation][k](img, f[k])
    out.append(list(img.tobytes()))
print(json.dumps(out))
`;

describe('applyJitter and jitterParams', () => {
  it('equal torchvision ColorJitter on PIL images byte for byte, on the same uniforms', function () {
    requirePython(this, ['torchvision', 'PIL']);
    const cases = [];
    for (let k = 0; k < 24; k++) {
      const C = k % 4 === 3 ? 1 : 3;
      const [w, h] = [5 + (k % 7), 4 + (k % 5)];
      const rnd = sampleRandom(k, 1, 2);
      // smooth ramps plus noise, some near black and white (the clipping of factors above 1)
      const px = Array.from({ length: w * h * C }, (_, i) =>
        Math.min(255, Math.floor((k % 2 ? 200 : 60) * rnd() + ((i * 37) % 80))),
      );
      const u = Array.from({ length: 5 }, sampleRandom(k, 7, 9));
      cases.push({ w, h, C, px, u, s: k < 20 ? 0.4 : 0.9 });
    }
    const want = JSON.parse(runPython(JITTER_PY, [], JSON.stringify(cases)).toString()) as number[][];
    cases.forEach((c, k) => {
      const us = c.u[Symbol.iterator]();
      const p = jitterParams(c.s, () => us.next().value!);
      const got = applyJitter(Uint8Array.from(c.px), c.C, p);
      assert.deepEqual(Array.from(got), want[k], `case ${k} (C=${c.C}, order ${p.order})`);
    });
  });

  it('draws every order of the three adjustments and factors in [0.6, 1.4]', () => {
    const orders = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const p = jitterParams(0.4, sampleRandom(3, 0, k));
      orders.add(p.order.join(''));
      for (const f of [p.brightness, p.contrast, p.saturation]) assert.ok(f >= 0.6 && f < 1.4, `${f}`);
    }
    assert.equal(orders.size, 6);
  });
});
