// erasing.test.ts: RandomErasing (erasing.ts) against a Python transcription of timm's
// RandomErasing._erase driven by the same uniforms (Python's random() replaced by them; randint as
// erasing.ts defines it): the boxes and the number of draws, for the official settings (prob 0.25,
// one box) and others, on sizes from 1 x 1 (nothing fits) to 224 x 224; the statistics of the boxes
// and of the 'pixel' values; what each mode writes and that nothing outside the boxes changes.
import assert from 'node:assert/strict';
import { type ErasingConfig, erasingBoxes, randomErase } from '../../../src/data/augment/erasing.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { Streams } from '../../../src/rng/noise.js';
import { requirePython, runPython } from './python.js';

const ERASE_PY = `
import json, math, random, sys
class Fed(random.Random):
    def __init__(self, us):
        super().__init__(0)
        self.us, self.used = us, 0
    def random(self):
        self.used += 1
        return self.us[self.used - 1]
    def randint(self, a, b):
        return a + min(b - a, math.floor(self.random() * (b - a + 1)))
out = []
for c in json.load(sys.stdin):
    r, H, W = Fed(c['u']), c['H'], c['W']
    boxes = []
    if not r.random() > c['prob']:
        count = 1 if c['maxCount'] == 1 else r.randint(1, c['maxCount'])
        log_ratio = (math.log(0.3), math.log(1 / 0.3))
        for _ in range(count):
            for _ in range(10):
                target = r.uniform(0.02, 1 / 3) * (H * W) / count
                aspect = math.exp(r.uniform(*log_ratio))
                h, w = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
                if w < W and h < H:
                    top, left = r.randint(0, H - h), r.randint(0, W - w)
                    boxes.append({'top': top, 'left': left, 'height': h, 'width': w})
                    break
    out.append({'boxes': boxes, 'used': r.used})
print(json.dumps(out))
`;

const cfg = (prob: number, maxCount = 1, mode: ErasingConfig['mode'] = 'pixel'): ErasingConfig => ({
  prob,
  mode,
  maxCount,
});

describe('RandomErasing', () => {
  it("draws timm's boxes on the same uniforms", function () {
    requirePython(this, ['json']);
    const cases = [];
    let k = 0;
    for (const [H, W] of [
      [1, 1],
      [2, 3],
      [5, 4],
      [28, 28],
      [31, 17],
      [224, 224],
    ] as const)
      for (const [prob, maxCount] of [
        [0.25, 1],
        [1, 1],
        [1, 3],
        [0.6, 4],
      ] as const)
        for (let rep = 0; rep < 8; rep++, k++)
          cases.push({
            H,
            W,
            prob,
            maxCount,
            u: Array.from({ length: 200 }, sampleRandom(3, 1, k, Streams.erasing)),
          });
    const want = JSON.parse(runPython(ERASE_PY, [], JSON.stringify(cases)).toString());
    let erased = 0;
    cases.forEach((c, i) => {
      let used = 0;
      const boxes = erasingBoxes(cfg(c.prob, c.maxCount), c.H, c.W, () => c.u[used++]!);
      assert.deepEqual(
        { boxes, used },
        want[i],
        `case ${i}: ${c.H}x${c.W} prob ${c.prob} count ${c.maxCount}`,
      );
      if (boxes.length) erased++;
    });
    assert.ok(erased > cases.length / 3, `${erased} erased`);
  });

  it('erases a quarter of the images, boxes of 2% to 1/3 of the area, aspect ratios 0.3 to 3.3 both ways', () => {
    const N = 20000;
    const [H, W] = [224, 224];
    const areas: number[] = [];
    let logAspect = 0;
    for (let i = 0; i < N; i++) {
      const boxes = erasingBoxes(cfg(0.25), H, W, sampleRandom(5, 0, i, Streams.erasing));
      for (const b of boxes) {
        assert.ok(
          b.top >= 0 && b.left >= 0 && b.top + b.height <= H && b.left + b.width <= W,
          JSON.stringify(b),
        );
        const aspect = b.height / b.width;
        assert.ok(aspect > 0.28 && aspect < 3.6, `aspect ${aspect}`);
        areas.push((b.height * b.width) / (H * W));
        logAspect += Math.log(aspect);
      }
    }
    assert.ok(Math.abs(areas.length / N - 0.25) < 0.01, `${areas.length} of ${N} erased`);
    assert.ok(
      Math.min(...areas) > 0.018 && Math.max(...areas) < 0.34,
      `${Math.min(...areas)} ${Math.max(...areas)}`,
    );
    // U(0.02, 1/3), less the few tall or wide draws that do not fit and are drawn again
    const mean = areas.reduce((a, b) => a + b, 0) / areas.length;
    assert.ok(mean > 0.16 && mean < 0.18, `mean area ${mean}`);
    assert.ok(Math.abs(logAspect / areas.length) < 0.03, `mean log aspect ${logAspect / areas.length}`);
  });

  it('writes standard normals per value (pixel), per channel (rand) or 0 (const) in the boxes only', () => {
    const [C, H, W] = [3, 28, 28];
    const per = C * H * W;
    const values: number[] = [];
    for (const mode of ['pixel', 'rand', 'const'] as const)
      for (let i = 0; i < 400; i++) {
        const img = new Float32Array(per + 10).fill(7);
        const boxes = randomErase(
          img,
          5,
          C,
          H,
          W,
          cfg(1, 2, mode),
          sampleRandom(9, 0, i, Streams.erasing),
          sampleRandom(9, 0, i, Streams.erasingPixels),
        );
        assert.ok(boxes.length >= 1);
        const inBox = (y: number, x: number) =>
          boxes.some((b) => y >= b.top && y < b.top + b.height && x >= b.left && x < b.left + b.width);
        for (let c = 0; c < C; c++)
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++) {
              const v = img[5 + (c * H + y) * W + x]!;
              if (!inBox(y, x)) assert.equal(v, 7);
              else if (mode === 'const') assert.equal(v, 0);
              else if (mode === 'pixel') values.push(v);
            }
        assert.deepEqual([...img.subarray(0, 5), ...img.subarray(5 + per)], Array(10).fill(7));
        if (mode === 'rand') {
          const b = boxes[boxes.length - 1]!;
          const at = (c: number, y: number, x: number) => img[5 + (c * H + y) * W + x];
          assert.equal(at(1, b.top, b.left), at(1, b.top + b.height - 1, b.left + b.width - 1));
        }
      }
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    assert.ok(
      values.length > 50000 && Math.abs(mean) < 0.02 && Math.abs(sd - 1) < 0.02,
      `${values.length} ${mean} ${sd}`,
    );
  });

  it('never erases at prob 0 and always at prob 1 (when a box fits)', () => {
    for (let i = 0; i < 200; i++) {
      assert.deepEqual(erasingBoxes(cfg(0), 28, 28, sampleRandom(1, 0, i, Streams.erasing)), []);
      assert.equal(erasingBoxes(cfg(1), 28, 28, sampleRandom(1, 0, i, Streams.erasing)).length, 1);
    }
  });
});
