// mixup.test.ts: timm Mixup's batch mode against a transcription of timm/data/mixup.py: rand_bbox
// (cut = int(side * sqrt(1 - lam)), the box clipped around the centre), the lam correction by the
// box's area, _params_per_batch's choices (prob, switch_prob, only one of mixup / cutmix on), the
// Beta draws' moments, and mixBatch's images and targets on the CPU against _mix_batch and
// mixup_target written out.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import {
  betaSample,
  boxLam,
  drawMix,
  type MixupSettings,
  mixBatch,
  randBbox,
} from '../../src/finetune/mixup.js';
import { PhiloxStream } from '../../src/rng/stream.js';

const settings = (o: Partial<MixupSettings>): MixupSettings => ({
  mixup: 0.8,
  cutmix: 1,
  prob: 1,
  switchProb: 0.5,
  smoothing: 0.1,
  ...o,
});

/** timm's rand_bbox with np.random.randint's results (cy, cx) given. */
function timmRandBbox(h: number, w: number, lam: number, cy: number, cx: number) {
  const ratio = Math.sqrt(1 - lam);
  const [cutH, cutW] = [Math.floor(h * ratio), Math.floor(w * ratio)];
  const clip = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  return [
    clip(cy - (cutH >> 1), h),
    clip(cy + (cutH >> 1), h),
    clip(cx - (cutW >> 1), w),
    clip(cx + (cutW >> 1), w),
  ];
}

describe('Mixup / CutMix (timm, batch mode)', () => {
  it('rand_bbox and the corrected lam', () => {
    for (const [H, W, lam, cy, cx] of [
      [16, 16, 0.3, 8, 8],
      [16, 12, 0.9, 0, 11],
      [7, 9, 0.05, 6, 0],
      [5, 5, 0.999, 2, 2],
    ] as const) {
      const b = randBbox(H, W, lam, cy, cx);
      const [yl, yh, xl, xh] = timmRandBbox(H, W, lam, cy, cx);
      assert.deepEqual(b, { yl, yh, xl, xh });
      assert.equal(boxLam(b, H, W), 1 - ((yh! - yl!) * (xh! - xl!)) / (H * W));
    }
  });

  it('draws deterministically per step: prob, switch_prob, a box only for cutmix', () => {
    const s = settings({});
    assert.deepEqual(drawMix(s, 3, 17, 16, 16), drawMix(s, 3, 17, 16, 16));
    const draws = Array.from({ length: 400 }, (_, step) => drawMix(s, 3, step, 16, 16));
    const cut = draws.filter((d) => d.box).length;
    assert.ok(cut > 150 && cut < 250, `${cut} of 400 cutmix at switch_prob 0.5`);
    for (const d of draws) {
      assert.ok(d.lam > 0 && d.lam <= 1);
      if (d.box) assert.equal(d.lam, boxLam(d.box, 16, 16));
    }
    assert.ok(drawMix(settings({ cutmix: 0 }), 3, 5, 16, 16).box === undefined);
    assert.ok(
      Array.from({ length: 20 }, (_, k) => drawMix(settings({ mixup: 0 }), 3, k, 16, 16)).every(
        (d) => d.box || d.lam === 1,
      ),
    );
    assert.deepEqual(drawMix(settings({ mixup: 0, cutmix: 0 }), 3, 5, 16, 16), { lam: 1 });
    const half = Array.from({ length: 400 }, (_, k) => drawMix(settings({ prob: 0.5 }), 1, k, 8, 8)).filter(
      (d) => d.lam === 1,
    ).length;
    assert.ok(half > 150 && half < 250, `${half} of 400 unmixed at prob 0.5`);
  });

  for (const alpha of [0.8, 1, 2.5])
    it(`Beta(${alpha}, ${alpha}) has the right mean and variance`, () => {
      const rng = new PhiloxStream(9, 1);
      const n = 20000;
      const xs = Array.from({ length: n }, () => betaSample(alpha, alpha, rng));
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
      const want = 1 / (4 * (2 * alpha + 1));
      assert.ok(Math.abs(v - want) < 0.05 * want, `variance ${v} vs ${want}`);
    });

  it('mixBatch mixes images and targets as _mix_batch and mixup_target (CPU ops)', async () => {
    const [N, C, H, W, K] = [4, 2, 5, 6, 3];
    const x = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(i * 0.37));
    const labels = [2, 0, 1, 1];
    const imgs = Tensor.fromArray('f32', [N, C, H, W], x);
    const lt = Tensor.fromArray('i64', [N], labels);
    const smoothing = 0.1;
    const [off, on] = [smoothing / K, 1 - smoothing + smoothing / K];
    const target = (lam: number) =>
      labels.flatMap((l, n) =>
        Array.from(
          { length: K },
          (_, k) => (k === l ? on : off) * lam + (k === labels[N - 1 - n] ? on : off) * (1 - lam),
        ),
      );
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
      for (let i = 0; i < b.length; i++)
        assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
    };
    const per = C * H * W;
    // mixup
    const m = mixBatch(imgs, lt, K, { lam: 0.3 }, smoothing);
    close(
      await m.imgs.toFloat32Array(),
      Array.from(x, (v, i) => v * 0.3 + x[(N - 1 - Math.floor(i / per)) * per + (i % per)]! * 0.7),
      'mixup',
    );
    close(await m.targets.toFloat32Array(), target(0.3), 'targets');
    // cutmix
    const box = { yl: 1, yh: 4, xl: 2, xh: 6 };
    const c = mixBatch(imgs, lt, K, { lam: boxLam(box, H, W), box }, smoothing);
    const want = Array.from(x, (v, i) => {
      const [n, h, w] = [Math.floor(i / per), Math.floor(i / W) % H, i % W];
      return h >= box.yl && h < box.yh && w >= box.xl && w < box.xh ? x[(N - 1 - n) * per + (i % per)]! : v;
    });
    close(await c.imgs.toFloat32Array(), want, 'cutmix');
    close(await c.targets.toFloat32Array(), target(boxLam(box, H, W)), 'cutmix targets');
    // not mixed: the images themselves, smoothed one-hot targets
    const none = mixBatch(imgs, lt, K, { lam: 1 }, smoothing);
    assert.equal(none.imgs, imgs);
    close(await none.targets.toFloat32Array(), target(1), 'smoothed');
  });
});
