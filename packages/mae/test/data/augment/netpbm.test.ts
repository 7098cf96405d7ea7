// netpbm.test.ts: binary PPM/PGM read as raw samples (header comments, no copy), every malformed or
// unsupported file a DecodeError naming it, the writer round trip, and decodeAugment giving a PPM
// file the same output as the raw sample it holds.
import assert from 'node:assert/strict';
import { decodeAugment } from '../../../src/data/augment/augment.js';
import { DecodeError } from '../../../src/data/augment/decode.js';
import { readNetpbm, writeNetpbm } from '../../../src/data/augment/netpbm.js';

function randomPixels(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256);
  return out;
}

const bad = (bytes: Uint8Array, re: RegExp) =>
  assert.throws(
    () => readNetpbm(bytes, 'x.ppm'),
    (e: unknown) => e instanceof DecodeError && e.sample === 'x.ppm' && re.test(e.reason),
  );

describe('readNetpbm', () => {
  it('reads P6 and P5 written by writeNetpbm, as views of the bytes', () => {
    for (const [w, h, c] of [
      [1, 1, 3],
      [13, 7, 3],
      [5, 9, 1],
    ] as const) {
      const px = randomPixels(w * h * c);
      const file = writeNetpbm(px, w, h, c);
      const s = readNetpbm(file, 'a')!;
      assert.deepEqual([s.kind, s.width, s.height, s.channels], ['raw', w, h, c]);
      assert.deepEqual(new Uint8Array(s.pixels), px);
      assert.equal(s.pixels.buffer, file.buffer);
    }
  });

  it('takes comments and any whitespace in the header, and trailing bytes', () => {
    const px = randomPixels(2 * 3 * 3);
    const file = Buffer.concat([
      Buffer.from('P6 # made by hand\n2\t3\r\n# max\n255\n'),
      px,
      Buffer.from('tail'),
    ]);
    assert.deepEqual(new Uint8Array(readNetpbm(file, 'a')!.pixels), px);
  });

  it('leaves other formats alone and refuses what it cannot read', () => {
    assert.equal(readNetpbm(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'x'), undefined);
    bad(Buffer.from('P3\n1 1\n255\n0 0 0\n'), /binary P5 grey and P6 RGB only/);
    bad(Buffer.from('P6\n1 1\n65535\n'), /maxval 65535/);
    bad(Buffer.from('P6\n1 x\n255\n'), /malformed/);
    bad(Buffer.from('P6\n4 4\n255\n123'), /truncated: 3 of 48/);
    bad(Buffer.from('P5\n0 4\n255\n'), /empty/);
    bad(Buffer.from('P6\n2'), /malformed/);
  });
});

describe('decodeAugment on PPM files', () => {
  it('gives the output of the raw sample the file holds', async () => {
    const [w, h] = [41, 29];
    const px = randomPixels(w * h * 3);
    const cfg = {
      inputSize: 16,
      channels: 3 as const,
      scale: [0.2, 1] as [number, number],
      ratio: [3 / 4, 4 / 3] as [number, number],
      flip: true,
      maxPixels: 1 << 20,
    };
    for (let i = 0; i < 8; i++) {
      const fromFile = await decodeAugment(
        { kind: 'encoded', bytes: writeNetpbm(px, w, h, 3), name: 'a.ppm' },
        cfg,
        5,
        1,
        i,
      );
      const fromRaw = await decodeAugment(
        { kind: 'raw', pixels: px, width: w, height: h, channels: 3, name: 'a' },
        cfg,
        5,
        1,
        i,
      );
      assert.deepEqual(fromFile, fromRaw);
    }
  });
});
