// resample.test.ts: resizeBicubic against PIL's resize(BICUBIC) on real photographs, shrinking and
// enlarging. Stated tolerance: at most 1 level anywhere and a mean under 0.01 levels (it is a
// transcription of Pillow's fixed-point code; measured: identical, 0 levels). resizeBicubic (native)
// against resizeBicubicReference (the TypeScript transcription): equal byte for byte, on the main
// thread and in worker threads.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { cropResizeBicubicU8 } from '@mae-cuda/native';
import sharp from 'sharp';
import type { CropBox } from '../../../src/data/augment/crop.js';
import { cropParams } from '../../../src/data/augment/crop.js';
import { cropHwc, flipHwc } from '../../../src/data/augment/pixels.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { resizeBicubic, resizeBicubicReference } from '../../../src/data/augment/resample.js';
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

/** A deterministic image: noise (overshoots, clipping) or, for kind 'edges', 0/255 stripes. */
function randomImage(
  w: number,
  h: number,
  ch: number,
  seed: number,
  kind: 'noise' | 'edges' = 'noise',
): Uint8Array {
  const px = new Uint8Array(w * h * ch);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    px[i] = kind === 'noise' ? s & 255 : ((i / ch) | 0) % 3 === 0 ? 255 : (s & 1) * 255;
  }
  return px;
}

/** Where two byte arrays first differ, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function checkEqual(w: number, h: number, ch: number, outW: number, outH: number, seed: number): void {
  for (const kind of ['noise', 'edges'] as const) {
    const src = randomImage(w, h, ch, seed, kind);
    const got = resizeBicubic(src, w, h, ch, outW, outH);
    const want = resizeBicubicReference(src, w, h, ch, outW, outH);
    assert.equal(got.length, outW * outH * ch);
    const at = firstDifference(got, want);
    assert.equal(
      at,
      -1,
      `${kind} ${w}x${h}x${ch} -> ${outW}x${outH}: differs at byte ${at}: ${got[at]} vs ${want[at]}`,
    );
  }
}

describe('resizeBicubic (native) against resizeBicubicReference', () => {
  it('is equal byte for byte, shrinking, enlarging and at extreme ratios, for 1 to 4 channels', () => {
    const sizes: [number, number, number, number][] = [
      [1000, 3, 224, 224],
      [3, 1000, 224, 224],
      [5, 5, 224, 224],
      [1, 1, 224, 224],
      [1, 7, 3, 2],
      [333, 251, 224, 224],
      [251, 333, 96, 97],
      [1000, 872, 224, 224],
      [97, 61, 224, 224],
      [224, 101, 224, 224],
      [101, 224, 224, 224],
      [224, 224, 224, 224],
      [2001, 17, 13, 401],
      [640, 480, 1, 1],
      [45, 37, 44, 38],
    ];
    let seed = 1;
    for (const ch of [1, 3]) for (const [w, h, outW, outH] of sizes) checkEqual(w, h, ch, outW, outH, seed++);
    for (const ch of [2, 4])
      for (const [w, h, outW, outH] of sizes.slice(0, 8)) checkEqual(w, h, ch, outW, outH, seed++);
  });

  it('is equal byte for byte on random odd sizes', () => {
    let s = 12345;
    const next = (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return 1 + ((s >>> 8) % n);
    };
    for (let i = 0; i < 60; i++) {
      const ch = i % 2 === 0 ? 3 : 1;
      const w = next(i % 3 === 0 ? 1500 : 300);
      const h = next(i % 5 === 0 ? 1500 : 300);
      const outW = i % 4 === 0 ? 224 : next(400);
      const outH = i % 4 === 0 ? 224 : next(400);
      checkEqual(w, h, ch, outW, outH, i + 100);
    }
  });

  it('refuses a wrong buffer length and zero sizes', () => {
    const src = new Uint8Array(2 * 2 * 3);
    assert.throws(() => resizeBicubic(src, 2, 2, 3, 0, 4), /dstWidth must be an integer in 1\.\./);
    assert.throws(() => resizeBicubic(new Uint8Array(0), 0, 0, 3, 4, 4), /width must be an integer in 1\.\./);
    assert.throws(() => resizeBicubic(src, 2, 3, 3, 4, 4), RangeError);
  });

  it('cropResizeBicubicU8: a crop box resized into a (shared) buffer and maybe mirrored, as crop + reference + flip', () => {
    const seed = (Date.now() % 65536) + 1;
    let s = seed;
    const next = (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    for (let i = 0; i < 64; i++) {
      const ch = 1 + ((i >> 1) % 4); // every channel count both mirrored and not
      const [w, h] = [1 + next(i % 5 === 0 ? 900 : 300), 1 + next(300)];
      const box = { width: 1 + next(w), height: 1 + next(h), left: 0, top: 0 };
      box.left = next(w - box.width + 1);
      box.top = next(h - box.height + 1);
      const [outW, outH] = i % 3 === 0 ? [224, 224] : [1 + next(250), 1 + next(250)];
      const flip = i % 2 === 1;
      const src = randomImage(w, h, ch, i + 500, i % 3 === 1 ? 'edges' : 'noise');
      const dst = new Uint8Array(new SharedArrayBuffer(outW * outH * ch + 8), 8, outW * outH * ch);
      cropResizeBicubicU8(dst, src, w, h, ch, box, outW, outH, flip);
      const resized = resizeBicubicReference(cropHwc(src, w, ch, box), box.width, box.height, ch, outW, outH);
      const want = flip ? flipHwc(resized, outW, outH, ch) : resized;
      const at = firstDifference(dst, want);
      assert.equal(
        at,
        -1,
        `${w}x${h}x${ch} box ${JSON.stringify(box)} -> ${outW}x${outH} flip ${flip} (seed ${seed})`,
      );
    }
  });

  it('cropResizeBicubicU8 refuses a box outside the image and a wrong dst length', () => {
    const src = new Uint8Array(10 * 8 * 3);
    const dst = new Uint8Array(4 * 4 * 3);
    const box = { left: 6, top: 0, width: 5, height: 8 };
    assert.throws(
      () => cropResizeBicubicU8(dst, src, 10, 8, 3, box, 4, 4, false),
      /boxWidth must be an integer in 1\.\.4/,
    );
    assert.throws(
      () => cropResizeBicubicU8(dst, src, 10, 8, 3, { ...box, left: 10 }, 4, 4, false),
      /left must be an integer in 0\.\.9/,
    );
    assert.throws(
      () => cropResizeBicubicU8(dst, src, 10, 8, 3, { ...box, width: 4 }, 5, 4, false),
      RangeError,
    );
  });

  it('runs in worker threads, equal to the main thread', async function () {
    this.timeout(120000);
    const jobs = [
      { w: 1000, h: 872, ch: 3, outW: 224, outH: 224 },
      { w: 5, h: 5, ch: 1, outW: 224, outH: 224 },
    ];
    const results = await Promise.all(
      jobs.map((job, i) => {
        const src = randomImage(job.w, job.h, job.ch, 7 + i);
        const worker = new Worker(new URL('./resample_worker.mjs', import.meta.url), {
          workerData: { ...job, src },
        });
        return new Promise<{ src: Uint8Array; got: Uint8Array }>((resolve, reject) => {
          worker.once('message', (got: Uint8Array) => resolve({ src, got }));
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`worker exited (code ${code}) before answering`)));
        }).finally(() => worker.terminate());
      }),
    );
    jobs.forEach(({ w, h, ch, outW, outH }, i) => {
      const { src, got } = results[i];
      assert.equal(firstDifference(got, resizeBicubicReference(src, w, h, ch, outW, outH)), -1);
      assert.equal(firstDifference(got, resizeBicubic(src, w, h, ch, outW, outH)), -1);
    });
  });
});
