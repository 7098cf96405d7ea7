// decode_jpeg.test.ts: the addon's libjpeg path against sharp's decode (and PIL's where Python has
// it) on fresh random images and boxes: chroma subsampling 4:2:0, 4:2:2 and 4:4:4, progressive,
// grey, restart intervals, odd sizes down to 1x1; truncated files refused whatever the box; CMYK
// left to sharp; the MAE_JPEG_DECODER switch.
import assert from 'node:assert/strict';
import { jpegAvailable } from '@mae-cuda/native';
import sharp from 'sharp';
import type { CropBox } from '../../../src/data/augment/crop.js';
import { DecodeError, decodeRegion, readDecodeHeader, readHeader } from '../../../src/data/augment/decode.js';
import { jpegDecoder } from '../../../src/data/augment/decode_jpeg.js';
import { pilRead } from './images.js';
import { pythonMissing, runPython } from './python.js';

const MAX = 1 << 24;

/** Smooth gradients plus noise (so that chroma upsampling and the IDCT both matter). */
function photoLike(width: number, height: number, seed: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      px[i] = (x * 255) / Math.max(1, width - 1) + 40 * rnd();
      px[i + 1] = (y * 255) / Math.max(1, height - 1) + 40 * rnd();
      px[i + 2] = 128 + 100 * Math.sin((x + y) / 5) + 20 * rnd();
    }
  }
  return px;
}

function randomBox(width: number, height: number, r: () => number): CropBox {
  const w = 1 + Math.floor(r() * width);
  const h = 1 + Math.floor(r() * height);
  return {
    left: Math.floor(r() * (width - w + 1)),
    top: Math.floor(r() * (height - h + 1)),
    width: w,
    height: h,
  };
}

interface Jpeg {
  name: string;
  bytes: Buffer;
  width: number;
  height: number;
}

async function sharpJpegs(): Promise<Jpeg[]> {
  const sizes = [
    [1, 1],
    [37, 23],
    [17, 301],
    [301, 199],
    [400, 350],
  ];
  const out: Jpeg[] = [];
  for (const [k, [width, height]] of sizes.entries()) {
    const img = () => sharp(photoLike(width, height, 7 + k), { raw: { width, height, channels: 3 } });
    const variants: [string, sharp.JpegOptions, boolean][] = [
      ['420', { quality: 85, chromaSubsampling: '4:2:0' }, false],
      ['444', { quality: 95, chromaSubsampling: '4:4:4' }, false],
      ['progressive', { quality: 80, progressive: true }, false],
      ['grey', { quality: 90 }, true],
    ];
    for (const [v, opts, grey] of variants) {
      const p = grey ? img().toColourspace('b-w') : img();
      out.push({ name: `${v} ${width}x${height}`, bytes: await p.jpeg(opts).toBuffer(), width, height });
    }
  }
  return out;
}

const PIL_JPEGS_PY = `
import io, sys, random
from PIL import Image
random.seed(int(sys.argv[1]))
out = sys.stdout.buffer
for w, h, sub, extra in [(301, 199, 1, {}), (64, 48, 1, {'progressive': True}), (203, 97, 2, {}), (130, 70, 0, {})]:
    im = Image.frombytes('RGB', (w, h), bytes(random.getrandbits(8) // 2 + (x * 97 % 128) for x in range(w * h * 3)))
    b = io.BytesIO()
    im.save(b, 'JPEG', quality=88, subsampling=sub, **extra)
    v = b.getvalue()
    out.write(len(v).to_bytes(4, 'little') + w.to_bytes(4, 'little') + h.to_bytes(4, 'little') + v)
`;

/** JPEGs written by PIL: 4:2:2 (subsampling=1), 4:4:4 and progressive ones. */
function pilJpegs(seed: number): Jpeg[] {
  const all = runPython(PIL_JPEGS_PY, [String(seed)]);
  const out: Jpeg[] = [];
  for (let at = 0; at < all.length; ) {
    const n = all.readUInt32LE(at);
    const width = all.readUInt32LE(at + 4);
    const height = all.readUInt32LE(at + 8);
    out.push({
      name: `PIL ${width}x${height} #${out.length}`,
      bytes: all.subarray(at + 12, at + 12 + n),
      width,
      height,
    });
    at += 12 + n;
  }
  return out;
}

async function viaSharp(j: Jpeg, box: CropBox): Promise<Uint8Array> {
  return decodeRegion(j.bytes, j.name, await readHeader(j.bytes, j.name, MAX), box, MAX);
}

async function viaLibjpeg(j: Jpeg, box: CropBox): Promise<Uint8Array> {
  const header = await readDecodeHeader(j.bytes, j.name, MAX);
  assert.equal(header.decoder, 'libjpeg', j.name);
  assert.deepEqual([header.width, header.height], [j.width, j.height]);
  return decodeRegion(j.bytes, j.name, header, box, MAX);
}

describe('the libjpeg path (decode_jpeg.ts)', () => {
  before(function () {
    if (!jpegAvailable()) {
      console.log('      skipped: the addon was built without libjpeg');
      this.skip();
    }
  });

  it("equals sharp's decode on random boxes of every subsampling, progressive, grey and odd sizes", async () => {
    const seed = (Date.now() % 100000) + 1;
    let r = seed;
    const rnd = () => {
      r = (Math.imul(r, 1103515245) + 12345) >>> 0;
      return r / 2 ** 32;
    };
    const jpegs = await sharpJpegs();
    if (!pythonMissing(['PIL'])) jpegs.push(...pilJpegs(seed));
    for (const j of jpegs) {
      const boxes = [{ left: 0, top: 0, width: j.width, height: j.height }];
      for (let k = 0; k < 12; k++) boxes.push(randomBox(j.width, j.height, rnd));
      for (const box of boxes) {
        const want = await viaSharp(j, box);
        const got = await viaLibjpeg(j, box);
        assert.ok(
          Buffer.from(got).equals(Buffer.from(want)),
          `${j.name}, box ${JSON.stringify(box)}, seed ${seed}`,
        );
      }
    }
  });

  it("equals PIL's decode on the same boxes", async function () {
    if (pythonMissing(['PIL'])) this.skip();
    const jpegs = [...(await sharpJpegs()).filter((j) => j.width > 100), ...pilJpegs(3)];
    const items = jpegs.flatMap((j) => [
      { j, box: { left: 0, top: 0, width: j.width, height: j.height } },
      { j, box: { left: 9, top: 17, width: j.width - 20, height: j.height - 30 } },
    ]);
    const pil = pilRead(items.map(({ j, box }) => ({ bytes: j.bytes, box })));
    for (const [n, { j, box }] of items.entries()) {
      assert.ok(
        Buffer.from(await viaLibjpeg(j, box)).equals(pil[n]!.rgb),
        `${j.name} ${JSON.stringify(box)}`,
      );
    }
  });

  it('refuses a truncated JPEG whatever the box, and bytes that only start like a JPEG', async () => {
    const j = (await sharpJpegs()).find((x) => x.name === '420 400x350')!;
    const cut = j.bytes.subarray(0, Math.floor(j.bytes.length * 0.6));
    const header = await readDecodeHeader(cut, 'cut.jpg', MAX);
    for (const box of [
      { left: 0, top: 0, width: 16, height: 16 },
      { left: 100, top: 300, width: 50, height: 50 },
    ]) {
      await assert.rejects(decodeRegion(cut, 'cut.jpg', header, box, MAX), (e: unknown) => {
        assert.ok(e instanceof DecodeError);
        assert.match(e.reason, /premature end/i);
        return true;
      });
    }
    const junk = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(100, 7)]);
    await assert.rejects(readDecodeHeader(junk, 'junk.jpg', MAX), DecodeError);
  });

  it('refuses a box outside the image and an image over the pixel limit', async () => {
    const j = (await sharpJpegs()).find((x) => x.name === '444 37x23')!;
    const header = await readDecodeHeader(j.bytes, 'a.jpg', MAX);
    await assert.rejects(
      decodeRegion(j.bytes, 'a.jpg', header, { left: 30, top: 0, width: 8, height: 1 }, MAX),
      /outside/,
    );
    await assert.rejects(readDecodeHeader(j.bytes, 'a.jpg', 37 * 23 - 1), /over the limit/);
  });

  it('leaves CMYK JPEGs to sharp', async () => {
    const px = photoLike(20, 10, 3);
    const cmyk = await sharp(px, { raw: { width: 20, height: 10, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    assert.equal((await readDecodeHeader(cmyk, 'c.jpg', MAX)).decoder, 'sharp');
  });
});

describe('jpegDecoder', () => {
  it('follows MAE_JPEG_DECODER and refuses other values', () => {
    assert.equal(jpegDecoder({ MAE_JPEG_DECODER: 'sharp' }), 'sharp');
    assert.equal(jpegDecoder({}), jpegAvailable() ? 'libjpeg' : 'sharp');
    assert.throws(() => jpegDecoder({ MAE_JPEG_DECODER: 'turbo' }), /libjpeg or sharp/);
    if (jpegAvailable()) assert.equal(jpegDecoder({ MAE_JPEG_DECODER: 'libjpeg' }), 'libjpeg');
    else assert.throws(() => jpegDecoder({ MAE_JPEG_DECODER: 'libjpeg' }), /without libjpeg/);
  });
});
