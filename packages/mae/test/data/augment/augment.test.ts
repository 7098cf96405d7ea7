// augment.test.ts: decodeAugment end to end against PIL doing torchvision's steps with the same crop
// box and flip, its determinism and draw order, raw samples, and its refusals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { type AugmentConfig, decodeAugment } from '../../../src/data/augment/augment.js';
import { cropParams } from '../../../src/data/augment/crop.js';
import { DecodeError } from '../../../src/data/augment/decode.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import type { Sample } from '../../../src/data/sources/types.js';
import { H, imageKinds, pattern, W } from './images.js';
import { requirePhotos } from './photos.js';
import { requirePython, runPython } from './python.js';

const CFG: AugmentConfig = {
  inputSize: 64,
  channels: 3,
  scale: [0.2, 1],
  ratio: [3 / 4, 4 / 3],
  flip: true,
  maxPixels: 1 << 26,
};

// torchvision: pil_loader (convert RGB), resized_crop (crop, resize BICUBIC), hflip; then L.
const PIL_AUGMENT_PY = `
import base64, io, json, sys, warnings
from PIL import Image
warnings.simplefilter('ignore')
for c in json.load(sys.stdin):
    im = Image.open(io.BytesIO(base64.b64decode(c['b64']))).convert('RGB')
    if c['channels'] == 1:
        im = im.convert('L')
    t, l, h, w = c['box']
    im = im.crop((l, t, l + w, t + h)).resize((c['size'], c['size']), Image.BICUBIC)
    if c['flip']:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    sys.stdout.buffer.write(im.tobytes())
`;

/** The box and flip decodeAugment should use, from the documented draw order. */
function expected(
  width: number,
  height: number,
  cfg: AugmentConfig,
  seed: number,
  epoch: number,
  index: number,
) {
  const u = sampleRandom(seed, epoch, index);
  const flip = u() < 0.5 && cfg.flip;
  return { box: cropParams(width, height, cfg.scale, cfg.ratio, u), flip };
}

const encoded = (bytes: Uint8Array, name: string): Sample => ({ kind: 'encoded', bytes, name });

describe('decodeAugment', () => {
  it('equals PIL crop + resize(BICUBIC) + flip with the same box and flip, RGB and L', async function () {
    requirePython(this, ['PIL']);
    const photo = requirePhotos(this)[0];
    const files = [
      { name: photo, bytes: readFileSync(photo) },
      { name: 'cmyk.jpg', bytes: (await imageKinds()).find((k) => k.name === 'cmyk.jpg')!.bytes },
    ];
    const runs = [];
    for (const f of files) {
      const meta = await sharp(f.bytes).metadata();
      for (let index = 0; index < 8; index++) {
        const cfg = { ...CFG, channels: index % 3 === 2 ? 1 : 3 } as AugmentConfig;
        const { box, flip } = expected(meta.width!, meta.height!, cfg, 5, 2, index);
        const got = await decodeAugment(encoded(f.bytes, f.name), cfg, 5, 2, index);
        runs.push({ got, name: f.name, index, flip, channels: cfg.channels, box });
      }
    }
    assert.ok(runs.some((r) => r.flip) && runs.some((r) => !r.flip));
    const input = runs.map((r, n) => ({
      b64: Buffer.from(files[Math.floor(n / 8)].bytes).toString('base64'),
      box: [r.box.top, r.box.left, r.box.height, r.box.width],
      size: CFG.inputSize,
      flip: r.flip,
      channels: r.channels,
    }));
    const pil = runPython(PIL_AUGMENT_PY, [], JSON.stringify(input));
    let at = 0;
    for (const r of runs) {
      assert.equal(r.got.length, CFG.inputSize * CFG.inputSize * r.channels);
      const want = pil.subarray(at, at + r.got.length);
      at += r.got.length;
      assert.ok(
        Buffer.from(r.got).equals(want),
        `${r.name} index ${r.index} (flip ${r.flip}, ${r.channels} ch)`,
      );
    }
    assert.equal(at, pil.length);
  });

  it('is a function of (seed, epoch, index) only', async () => {
    const png = (await imageKinds()).find((k) => k.name === 'rgba.png')!.bytes;
    const a = await decodeAugment(encoded(png, 'a'), CFG, 1, 0, 3);
    await decodeAugment(encoded(png, 'a'), CFG, 1, 0, 4);
    assert.deepEqual(await decodeAugment(encoded(png, 'a'), CFG, 1, 0, 3), a);
    const others = await Promise.all([
      decodeAugment(encoded(png, 'a'), CFG, 2, 0, 3),
      decodeAugment(encoded(png, 'a'), CFG, 1, 1, 3),
      decodeAugment(encoded(png, 'a'), CFG, 1, 0, 5),
    ]);
    for (const o of others) assert.notDeepEqual(o, a);
  });

  it('gives raw pixels the same result as the same pixels encoded losslessly', async () => {
    const rgb = await sharp(pattern(true), { raw: { width: W, height: H, channels: 4 } })
      .removeAlpha()
      .raw()
      .toBuffer();
    const png = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const raw: Sample = { kind: 'raw', pixels: rgb, width: W, height: H, channels: 3, name: 'raw' };
    for (const channels of [3, 1] as const) {
      for (let index = 0; index < 4; index++) {
        const cfg = { ...CFG, channels };
        const want = await decodeAugment(encoded(png, 'png'), cfg, 9, 0, index);
        assert.deepEqual(await decodeAugment(raw, cfg, 9, 0, index), want, `${channels} ch, index ${index}`);
      }
    }
  });

  it('with flip off, crops as with flip on and never mirrors', async () => {
    const png = (await imageKinds()).find((k) => k.name === 'rgba.png')!.bytes;
    const S = CFG.inputSize;
    let flipped = 0;
    for (let index = 0; index < 6; index++) {
      const on = await decodeAugment(encoded(png, 'p'), CFG, 4, 0, index);
      const off = await decodeAugment(encoded(png, 'p'), { ...CFG, flip: false }, 4, 0, index);
      if (expected(W, H, CFG, 4, 0, index).flip) {
        flipped++;
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            for (let c = 0; c < 3; c++)
              assert.equal(on[(y * S + x) * 3 + c], off[(y * S + S - 1 - x) * 3 + c]);
          }
        }
      } else assert.deepEqual(on, off);
    }
    assert.ok(flipped > 0 && flipped < 6);
  });

  it('refuses bad raw samples with a DecodeError, and a bad config with a RangeError', async () => {
    const px = new Uint8Array(10 * 10 * 3);
    const bad = (s: Partial<Extract<Sample, { kind: 'raw' }>>): Sample =>
      ({ kind: 'raw', pixels: px, width: 10, height: 10, channels: 3, name: 'r/7', ...s }) as Sample;
    for (const s of [bad({ width: 11 }), bad({ channels: 4 as 3 }), bad({ height: 0 })]) {
      await assert.rejects(
        decodeAugment(s, CFG, 1, 0, 0),
        (e: unknown) => e instanceof DecodeError && e.sample === 'r/7',
      );
    }
    await assert.rejects(decodeAugment(bad({}), { ...CFG, maxPixels: 99 }, 1, 0, 0), /over the limit/);
    await assert.rejects(decodeAugment(bad({}), { ...CFG, inputSize: 0 }, 1, 0, 0), RangeError);
    await assert.rejects(decodeAugment(bad({}), { ...CFG, channels: 2 as 3 }, 1, 0, 0), RangeError);
  });
});
