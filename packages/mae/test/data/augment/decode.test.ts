// decode.test.ts: decoding every image kind to the RGB (and L) that PIL's convert gives, crops of
// the stored (unrotated) image, and a clear DecodeError for every kind of bad data.
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { rgbToLuma } from '../../../src/data/augment/convert.js';
import type { CropBox } from '../../../src/data/augment/crop.js';
import { DecodeError, decodeRegion, readDecodeHeader, readHeader } from '../../../src/data/augment/decode.js';
import { H, imageKinds, pattern, pilRead, png16, W } from './images.js';
import { requirePython } from './python.js';

const MAX = 1 << 24;
const FULL: CropBox = { top: 0, left: 0, height: H, width: W };
const PART: CropBox = { top: 5, left: 11, height: 13, width: 19 };

async function decode(bytes: Uint8Array, box: CropBox, name = 'x'): Promise<Uint8Array> {
  return decodeRegion(bytes, name, await readDecodeHeader(bytes, name, MAX), box, MAX);
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function rejects(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  await assert.rejects(
    decode(bytes, { top: 0, left: 0, height: 1, width: 1 }, 'bad/sample.jpg'),
    (e: unknown) => {
      assert.ok(e instanceof DecodeError, `not a DecodeError: ${e}`);
      assert.equal(e.sample, 'bad/sample.jpg');
      assert.match(e.message, /bad\/sample\.jpg/);
      assert.match(e.reason, pattern);
      return true;
    },
  );
}

describe('decodeRegion', () => {
  it('reads every kind as PIL convert("RGB") and convert("L") do, whole and cropped', async function () {
    requirePython(this, ['PIL']);
    const kinds = (await imageKinds()).filter((k) => k.pil);
    const items = kinds.flatMap((k) => [FULL, PART].map((box) => ({ bytes: k.bytes, box, name: k.name })));
    const pil = pilRead(items);
    for (const [n, it] of items.entries()) {
      const rgb = await decode(it.bytes, it.box, it.name);
      assert.equal(maxDiff(rgb, pil[n].rgb), 0, `${it.name} RGB, box ${JSON.stringify(it.box)}`);
      assert.equal(maxDiff(rgbToLuma(rgb), pil[n].grey), 0, `${it.name} L`);
    }
  });

  it('drops alpha without compositing, and reads lossless AVIF (no Pillow 9 reader) exactly', async () => {
    const src = pattern();
    const want = new Uint8Array(W * H * 3);
    for (let p = 0; p < W * H; p++) want.set(src.subarray(4 * p, 4 * p + 3), 3 * p);
    for (const k of await imageKinds()) {
      if (!['rgba.png', 'rgba.webp', 'rgb.avif'].includes(k.name)) continue;
      assert.equal(maxDiff(await decode(k.bytes, FULL, k.name), want), 0, k.name);
    }
  });

  it('keeps the high byte of 16-bit samples', async () => {
    const { bytes, samples } = await png16();
    const rgb = await decode(bytes, FULL);
    assert.deepEqual(
      rgb,
      Uint8Array.from(samples, (v) => v >> 8),
    );
  });

  it("does not apply EXIF orientation (as torchvision's loader)", async () => {
    const bytes = await sharp(pattern(true), { raw: { width: W, height: H, channels: 4 } })
      .removeAlpha()
      .png()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const header = await readHeader(bytes, 'rotated', MAX);
    assert.deepEqual([header.width, header.height], [W, H]);
    assert.equal((await decode(bytes, FULL)).length, W * H * 3);
    assert.equal((await decode(bytes, FULL))[3 * 1 + 0], 7);
  });

  it('refuses an empty file', async () => {
    await rejects(new Uint8Array(0), /empty/);
  });

  it('refuses bytes that are no image', async () => {
    const junk = new Uint8Array(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
    await rejects(junk, /unsupported image format|Input buffer/i);
    await rejects(
      new TextEncoder().encode('<html>not found</html>'),
      /unsupported image format|Input buffer/i,
    );
  });

  it('refuses a truncated JPEG and a corrupt PNG', async () => {
    const jpg = (await imageKinds()).find((k) => k.name === 'rgb.jpg')!.bytes;
    await rejects(jpg.subarray(0, Math.floor(jpg.length / 2)), /premature|truncat|end of/i);
    const png = Buffer.from((await imageKinds()).find((k) => k.name === 'rgba.png')!.bytes);
    png.fill(0x55, 60, png.length - 20);
    await rejects(png, /./);
  });

  it('refuses an image over the pixel limit from its header, quickly', async () => {
    const t0 = performance.now();
    await rejects(hugePngHeader(100000, 100000), /over the limit|pixel limit/i);
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
    const small = (await imageKinds())[0].bytes;
    await assert.rejects(readHeader(small, 's', W * H - 1), /over the limit|exceeds pixel limit/);
  });
});

/** A PNG signature and IHDR claiming width x height RGB, then a tiny IDAT and IEND. */
function hugePngHeader(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
