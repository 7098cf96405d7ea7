// crop.test.ts: cropParams against a Python transcription of torchvision's
// RandomResizedCrop.get_params driven by the same uniforms, its distribution, and the fallback.
import assert from 'node:assert/strict';
import { cropParams, roundHalfEven } from '../../../src/data/augment/crop.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { requirePython, runPython } from './python.js';

// torchvision/transforms/transforms.py RandomResizedCrop.get_params, torch's draws replaced by
// U(a, b) = a + (b - a) * u and randint(0, n) = floor(u * n) over the given uniforms.
const GET_PARAMS_PY = `
import json, math, sys
def get_params(width, height, scale, ratio, us):
    def U(a, b): return a + (b - a) * next(us)
    def randint(lo, hi): return lo + min(hi - lo - 1, math.floor(next(us) * (hi - lo)))
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * U(scale[0], scale[1])
        aspect_ratio = math.exp(U(log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = randint(0, height - h + 1)
            j = randint(0, width - w + 1)
            return i, j, h, w
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w = width
        h = height
    i = (height - h) // 2
    j = (width - w) // 2
    return i, j, h, w
out = []
for c in json.load(sys.stdin):
    us = iter(c['u'])
    i, j, h, w = get_params(c['w'], c['h'], c['scale'], c['ratio'], us)
    out.append([i, j, h, w, len(c['u']) - sum(1 for _ in us)])
print(json.dumps(out))
`;

type Case = { w: number; h: number; scale: [number, number]; ratio: [number, number] };

function cases(): Case[] {
  const out: Case[] = [];
  const sizes = [
    [500, 375],
    [375, 500],
    [224, 224],
    [1, 1],
    [3, 7],
    [1000, 10],
    [10, 1000],
    [4000, 3000],
    [101, 99],
  ];
  const settings: [[number, number], [number, number]][] = [
    [
      [0.2, 1],
      [3 / 4, 4 / 3],
    ],
    [
      [0.08, 1],
      [3 / 4, 4 / 3],
    ],
    [
      [0.9, 1],
      [0.5, 2],
    ],
    [
      [2, 3],
      [3 / 4, 4 / 3],
    ],
  ];
  for (const [w, h] of sizes) for (const [scale, ratio] of settings) out.push({ w, h, scale, ratio });
  return out;
}

describe('cropParams', () => {
  it('equals the Python transcription of torchvision get_params on the same uniforms', function () {
    requirePython(this, ['json']);
    const runs: (Case & { u: number[]; got: number[] })[] = [];
    for (const c of cases()) {
      for (let k = 0; k < 40; k++) {
        const rnd = sampleRandom(7, k, runs.length);
        const u: number[] = [];
        const box = cropParams(c.w, c.h, c.scale, c.ratio, () => {
          u.push(rnd());
          return u[u.length - 1];
        });
        runs.push({ ...c, u, got: [box.top, box.left, box.height, box.width, u.length] });
      }
    }
    const want = JSON.parse(runPython(GET_PARAMS_PY, [], JSON.stringify(runs)).toString()) as number[][];
    assert.equal(want.length, runs.length);
    let fallbacks = 0;
    runs.forEach((r, n) => {
      assert.deepEqual(r.got, want[n], `case ${n}: ${r.w}x${r.h} scale ${r.scale} ratio ${r.ratio}`);
      if (r.u.length === 20) fallbacks++;
    });
    assert.ok(fallbacks > 100 && fallbacks < runs.length / 2, `fallbacks ${fallbacks} of ${runs.length}`);
  });

  it('draws area ~ U(scale) and log aspect ~ U(log ratio), placed uniformly, when nothing is rejected', () => {
    const [W, H, N] = [1000, 1000, 20000];
    const rnd = sampleRandom(1, 0, 0);
    let area = 0;
    let area2 = 0;
    let logAspect = 0;
    let top = 0;
    for (let n = 0; n < N; n++) {
      const b = cropParams(W, H, [0.1, 0.3], [3 / 4, 4 / 3], rnd);
      const a = (b.width * b.height) / (W * H);
      const r = b.width / b.height;
      assert.ok(a > 0.099 && a < 0.301 && r > 0.74 && r < 1.34, `box ${JSON.stringify(b)}`);
      assert.ok(b.top + b.height <= H && b.left + b.width <= W);
      area += a;
      area2 += a * a;
      logAspect += Math.log(r);
      top += b.top / (H - b.height);
    }
    const mean = area / N;
    const sd = Math.sqrt(area2 / N - mean * mean);
    assert.ok(Math.abs(mean - 0.2) < 0.002, `mean area ${mean}`);
    assert.ok(Math.abs(sd - 0.2 / Math.sqrt(12)) < 0.002, `sd area ${sd}`);
    assert.ok(Math.abs(logAspect / N) < 0.003, `mean log aspect ${logAspect / N}`);
    assert.ok(Math.abs(top / N - 0.5) < 0.01, `mean relative top ${top / N}`);
  });

  it('falls back to the centre crop, clamped to the ratio range, after 10 rejected tries', () => {
    let draws = 0;
    const u = () => {
      draws++;
      return 0.5;
    };
    assert.deepEqual(cropParams(1000, 10, [1, 1], [3 / 4, 4 / 3], u), {
      top: 0,
      left: 493,
      height: 10,
      width: 13,
    });
    assert.equal(draws, 20);
    assert.deepEqual(cropParams(10, 1000, [1, 1], [3 / 4, 4 / 3], u), {
      top: 493,
      left: 0,
      height: 13,
      width: 10,
    });
    assert.deepEqual(cropParams(40, 30, [2, 3], [3 / 4, 4 / 3], u), {
      top: 0,
      left: 0,
      height: 30,
      width: 40,
    });
  });

  it('takes the whole image when scale and ratio allow only that', () => {
    const rnd = sampleRandom(3, 1, 2);
    assert.deepEqual(cropParams(64, 48, [1, 1], [4 / 3, 4 / 3], rnd), {
      top: 0,
      left: 0,
      height: 48,
      width: 64,
    });
  });

  it('rounds half to even as Python does, and rejects bad arguments', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 2.4999, 2.5001, 7].map(roundHalfEven), [0, 2, 2, 2, 3, 7]);
    const u = () => 0.5;
    assert.throws(() => cropParams(0, 10, [0.2, 1], [0.75, 1.25], u), RangeError);
    assert.throws(() => cropParams(10, 10, [0, 1], [0.75, 1.25], u), RangeError);
    assert.throws(() => cropParams(10, 10, [0.2, 1], [2, 1], u), RangeError);
  });
});
