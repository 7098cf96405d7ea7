// randaugment.test.ts: RandAugment (randaugment.ts, randaugment_config.ts) against a Python
// transcription of timm 0.3.2's RandAugment / AugmentOp / level functions running Pillow's own
// operations, driven by the same uniforms (Python's random() replaced by them, so gauss and the
// negation draws are CPython's): the ops picked, whether each ran, its magnitude and arguments, the
// number of draws and the output bytes, on RGB and grey images, for the official setting and
// others; the statistics of the draws; the --aa parser and the fill colour.
import assert from 'node:assert/strict';
import {
  applyRandAugment,
  RAND_INCREASING_TRANSFORMS,
  RAND_TRANSFORMS,
  randAugmentOps,
} from '../../../src/data/augment/randaugment.js';
import {
  DEFAULT_AA,
  parseRandAugment,
  randAugmentFill,
} from '../../../src/data/augment/randaugment_config.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { Streams } from '../../../src/rng/noise.js';
import { SIZES, testImage } from './pil.js';
import { requirePython, runPython } from './python.js';

// timm 0.3.2's RandAugment, transcribed: the op list, level functions (levels out of 10) and
// AugmentOp's draws on a random.Random whose random() yields the given uniforms; op choice
// floor(u * len) (numpy's choice is not a function of one uniform).
const TIMM_PY = `
import json, math, random, sys
from PIL import Image, ImageOps, ImageEnhance
class Fed(random.Random):
    def __init__(self, us):
        super().__init__(0)
        self.us, self.used = us, 0
    def random(self):
        self.used += 1
        return self.us[self.used - 1]
BIC, AFF = Image.Resampling.BICUBIC, Image.Transform.AFFINE
def neg(r, v):
    return -v if r.random() > 0.5 else v
def aff(m):
    return lambda im, f, v: im.transform(im.size, AFF, m(im, v), resample=BIC, fillcolor=f)
def solarize_add(im, f, add):
    return im.point([min(255, v + add) if v < 128 else v for v in range(256)] * len(im.getbands()))
enh = lambda m, r: (m / 10. * 1.8 + .1,)
enh_inc = lambda m, r: (1.0 + neg(r, m / 10. * .9),)
OPS = {
    'AutoContrast': (None, lambda im, f: ImageOps.autocontrast(im)),
    'Equalize': (None, lambda im, f: ImageOps.equalize(im)),
    'Invert': (None, lambda im, f: ImageOps.invert(im)),
    'Rotate': (lambda m, r: (neg(r, m / 10. * 30.),), lambda im, f, d: im.rotate(d, resample=BIC, fillcolor=f)),
    'Posterize': (lambda m, r: (int(m / 10. * 4),), None),
    'PosterizeIncreasing': (lambda m, r: (4 - int(m / 10. * 4),), None),
    'Solarize': (lambda m, r: (int(m / 10. * 256),), lambda im, f, t: ImageOps.solarize(im, t)),
    'SolarizeIncreasing': (lambda m, r: (256 - int(m / 10. * 256),), lambda im, f, t: ImageOps.solarize(im, t)),
    'SolarizeAdd': (lambda m, r: (int(m / 10. * 110),), solarize_add),
    'ShearX': (lambda m, r: (neg(r, m / 10. * .3),), aff(lambda im, v: (1, v, 0, 0, 1, 0))),
    'ShearY': (lambda m, r: (neg(r, m / 10. * .3),), aff(lambda im, v: (1, 0, 0, v, 1, 0))),
    'TranslateXRel': (lambda m, r: (neg(r, m / 10. * .45),), aff(lambda im, v: (1, 0, v * im.size[0], 0, 1, 0))),
    'TranslateYRel': (lambda m, r: (neg(r, m / 10. * .45),), aff(lambda im, v: (1, 0, 0, 0, 1, v * im.size[1]))),
}
def posterize(im, f, bits):
    return im if bits >= 8 else ImageOps.posterize(im, bits)
for p in ('Posterize', 'PosterizeIncreasing'):
    OPS[p] = (OPS[p][0], posterize)
for name, cls in (('Color', ImageEnhance.Color), ('Contrast', ImageEnhance.Contrast),
                  ('Brightness', ImageEnhance.Brightness), ('Sharpness', ImageEnhance.Sharpness)):
    apply = (lambda c: lambda im, f, v: c(im).enhance(v))(cls)
    OPS[name] = (enh, apply)
    OPS[name + 'Increasing'] = (enh_inc, apply)
out = []
for c in json.load(sys.stdin):
    r = Fed(c['u'])
    names = c['names']
    picked = [names[min(len(names) - 1, math.floor(r.random() * len(names)))] for _ in range(c['n'])]
    img = Image.frombytes('RGB' if c['C'] == 3 else 'L', (c['w'], c['h']), bytes(c['px']))
    fill = tuple(c['fill'])
    ops = []
    for name in picked:
        if r.random() > 0.5:
            ops.append({'name': name, 'applied': False})
            continue
        m = c['m']
        if c['mstd'] > 0:
            m = r.gauss(m, c['mstd'])
        m = min(10., max(0, m))
        level, fn = OPS[name]
        args = level(m, r) if level else ()
        img = fn(img, fill, *args)
        ops.append({'name': name, 'applied': True, 'magnitude': m, 'args': list(args)})
    out.append({'ops': ops, 'used': r.used, 'px': list(img.tobytes())})
print(json.dumps(out))
`;

// the official one, the plain list, no noise, clipping at 10 and at 0
const SETTINGS = [
  DEFAULT_AA,
  'rand-m9-mstd0.5',
  'rand-m10-n3',
  'rand-m5-n1-mstd1-inc1',
  'rand-m15-n4-mstd4-inc1',
  'rand-m1-mstd3',
];

describe('RandAugment', () => {
  it("equals timm 0.3.2's RandAugment with Pillow's ops on the same uniforms (draws and bytes)", function () {
    requirePython(this, ['PIL']);
    const cases = [];
    let k = 0;
    for (const aa of SETTINGS)
      for (const [w, h] of SIZES.slice(2))
        for (const C of [1, 3] as const)
          for (let rep = 0; rep < 6; rep++, k++) {
            const cfg = parseRandAugment(aa)!;
            const names = cfg.increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS;
            const u = Array.from({ length: 64 }, sampleRandom(7, 2, k, Streams.randAugment));
            const fill = randAugmentFill(C === 3 ? [0.485, 0.456, 0.406] : [0.1307]);
            const px = testImage(k, w, h, C);
            cases.push({
              aa,
              cfg,
              names,
              n: cfg.numLayers,
              m: cfg.magnitude,
              mstd: cfg.magnitudeStd,
              u,
              w,
              h,
              C,
              px,
              fill,
            });
          }
    type Want = {
      ops: { name: string; applied: boolean; magnitude?: number; args?: number[] }[];
      used: number;
      px: number[];
    };
    const want = JSON.parse(runPython(TIMM_PY, [], JSON.stringify(cases)).toString()) as Want[];
    const seen = new Set<string>();
    cases.forEach((c, i) => {
      let used = 0;
      const ops = randAugmentOps(c.cfg, () => c.u[used++]!);
      const what = `case ${i} (${c.aa}, ${c.w}x${c.h}x${c.C})`;
      const py = want[i]!.ops;
      assert.deepEqual(
        ops.map((o) => [o.name, o.applied]),
        py.map((o) => [o.name, o.applied]),
        what,
      );
      ops.forEach((o, j) => {
        if (!o.applied) return;
        // gauss's log, cos and sin come from V8 here and from libm in CPython: equal to ~1 ulp
        const near = (a: number, b: number) => Math.abs(a - b) <= 1e-13 * Math.max(1, Math.abs(b));
        assert.ok(
          near(o.magnitude!, py[j]!.magnitude!),
          `${what} op ${j}: ${o.magnitude} ${py[j]!.magnitude}`,
        );
        assert.equal(o.args.length, py[j]!.args!.length);
        o.args.forEach((a, q) =>
          assert.ok(near(a, py[j]!.args![q]!), `${what} op ${j}: ${o.args} ${py[j]!.args}`),
        );
      });
      assert.equal(used, want[i]!.used, `${what}: uniforms used`);
      // the bytes on Python's exact arguments
      const exact = ops.map((o, j) => (o.applied ? { ...o, args: py[j]!.args! } : o));
      const got = applyRandAugment(Uint8Array.from(c.px), c.w, c.h, c.C, exact, c.fill);
      const ran = exact.filter((o) => o.applied).map((o) => `${o.name}(${o.args})`);
      assert.deepEqual(Array.from(got), want[i]!.px, `${what}: ${ran}`);
      for (const o of ops) if (o.applied) seen.add(o.name);
    });
    assert.equal(seen.size, 21, `every op ran: ${[...seen]}`);
  });

  it('draws ops uniformly, runs each with probability 0.5, magnitudes normal(9, 0.5) clipped to 10', () => {
    const cfg = parseRandAugment(DEFAULT_AA)!;
    const N = 20000;
    const counts = new Map<string, number>();
    let applied = 0;
    const mags: number[] = [];
    let signs = 0;
    for (let i = 0; i < N; i++)
      for (const o of randAugmentOps(cfg, sampleRandom(1, 0, i, Streams.randAugment))) {
        counts.set(o.name, (counts.get(o.name) ?? 0) + 1);
        if (!o.applied) continue;
        applied++;
        mags.push(o.magnitude!);
        if (o.name === 'Rotate') signs += Math.sign(o.args[0]!);
      }
    assert.equal(counts.size, 15);
    for (const [name, n] of counts) assert.ok(Math.abs(n / (2 * N) - 1 / 15) < 0.006, `${name}: ${n}`);
    assert.ok(Math.abs(applied / (2 * N) - 0.5) < 0.01, `applied ${applied}`);
    assert.ok(Math.max(...mags) === 10 && Math.min(...mags) > 6, 'clipped at 10');
    const mean = mags.reduce((a, b) => a + b, 0) / mags.length;
    // E[min(10, X)] for X ~ N(9, 0.5): 9 - 0.5 * (phi(2) + 2 (1 - Phi(2))) = 8.9958
    assert.ok(Math.abs(mean - 8.9958) < 0.01, `mean magnitude ${mean}`);
    assert.ok(Math.abs(signs) < 0.1 * (counts.get('Rotate') ?? 0), `rotation signs ${signs}`);
  });

  describe('--aa (timm 0.3.2 rand_augment_transform)', () => {
    it('reads the official setting and the other sections', () => {
      assert.deepEqual(parseRandAugment(DEFAULT_AA), {
        magnitude: 9,
        numLayers: 2,
        magnitudeStd: 0.5,
        increasing: true,
      });
      assert.deepEqual(parseRandAugment('rand-m7-n3'), {
        magnitude: 7,
        numLayers: 3,
        magnitudeStd: 0,
        increasing: false,
      });
      assert.deepEqual(parseRandAugment('rand'), {
        magnitude: 10,
        numLayers: 2,
        magnitudeStd: 0,
        increasing: false,
      });
      // 0.3.2 tests bool() of the value string: inc0 selects the increasing list too
      assert.equal(parseRandAugment('rand-inc0')!.increasing, true);
      // sections without a digit are skipped; the first mstd counts (hparams.setdefault)
      assert.deepEqual(parseRandAugment('rand-foo-mstd1-mstd2'), {
        magnitude: 10,
        numLayers: 2,
        magnitudeStd: 1,
        increasing: false,
      });
      assert.equal(parseRandAugment('none'), undefined);
      assert.equal(parseRandAugment(''), undefined);
    });
    it('refuses what it does not implement or cannot read', () => {
      assert.throws(() => parseRandAugment('foo'), /not a RandAugment setting/);
      assert.throws(() => parseRandAugment('original-mstd0.5'), /AutoAugment policies/);
      assert.throws(() => parseRandAugment('rand-m9.5'), /magnitude \(m\) must be an integer/);
      assert.throws(() => parseRandAugment('rand-mstdx1x'), /mstd/);
      assert.throws(() => parseRandAugment('rand-w0'), /weighted op choice/);
      assert.throws(() => parseRandAugment('rand-x1'), /unknown RandAugment section "x1"/);
    });
    it("fills with create_transform's img_mean: min(255, round(255 * mean)), Python's round", function () {
      requirePython(this, ['PIL']);
      const means = [0.485, 0.456, 0.406, 0.1307, 0.5 / 255, 2.5 / 255, 1, 1.2, 0];
      const want = JSON.parse(
        runPython(
          'import json; print(json.dumps([min(255, round(255 * x)) for x in ' + JSON.stringify(means) + ']))',
        ).toString(),
      );
      assert.deepEqual(randAugmentFill(means), want);
      assert.deepEqual(randAugmentFill([0.485, 0.456, 0.406]), [124, 116, 104]);
    });
  });
});
