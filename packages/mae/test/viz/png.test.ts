// png.test.ts: the PNG encoder: CRC-32 against known values, the chunk layout, and pixels that
// inflate back to what was given.
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng, PNG_SIGNATURE } from '../../src/viz/png.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('png', () => {
  it('computes CRC-32 as zlib does', () => {
    assert.equal(crc32(ascii('IEND')), 0xae426082);
    assert.equal(crc32(ascii('123456789')), 0xcbf43926);
  });

  it('writes signature, IHDR, IDAT and IEND with valid CRCs and the given pixels', () => {
    const pixels = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 10);
    const png = encodePng({ width: 3, height: 2, channels: 3, pixels });
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    const view = new DataView(png.buffer, png.byteOffset);
    const chunks: { type: string; data: Uint8Array }[] = [];
    for (let at = 8; at < png.length; ) {
      const len = view.getUint32(at);
      const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
      const data = png.subarray(at + 8, at + 8 + len);
      assert.equal(view.getUint32(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), `${type} CRC`);
      chunks.push({ type, data });
      at += 12 + len;
    }
    assert.deepEqual(
      chunks.map((c) => c.type),
      ['IHDR', 'IDAT', 'IEND'],
    );
    const ihdr = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset);
    assert.equal(ihdr.getUint32(0), 3);
    assert.equal(ihdr.getUint32(4), 2);
    assert.deepEqual([...chunks[0]!.data.subarray(8)], [8, 2, 0, 0, 0]);
    const raw = inflateSync(chunks[1]!.data);
    assert.deepEqual([...raw], [0, ...pixels.subarray(0, 9), 0, ...pixels.subarray(9)]);
  });

  it('refuses a pixel buffer of the wrong size', () => {
    assert.throws(
      () => encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(3) }),
      /3 bytes/,
    );
  });
});
