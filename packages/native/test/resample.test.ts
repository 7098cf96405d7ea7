// resample.test.ts: resizeBicubicU8's arguments, copies and constant images (its equality with the
// TypeScript transcription of PIL's resize is tested in @mae-cuda/mae, test/data/augment).
import assert from 'node:assert/strict';
import { resizeBicubicU8 } from '../src/resample.js';

describe('resizeBicubicU8', () => {
  it('keeps a constant image constant, shrinking and enlarging, 1 to 4 channels', () => {
    for (const ch of [1, 2, 3, 4]) {
      for (const [w, h, ow, oh] of [
        [300, 7, 224, 224],
        [5, 5, 224, 224],
        [1000, 3, 224, 224],
        [224, 9, 224, 3],
      ]) {
        const out = resizeBicubicU8(new Uint8Array(w * h * ch).fill(201), w, h, ch, ow, oh);
        assert.ok(out instanceof Uint8Array);
        assert.equal(out.length, ow * oh * ch);
        assert.ok(
          out.every((v) => v === 201),
          `${w}x${h}x${ch} -> ${ow}x${oh}`,
        );
      }
    }
  });

  it('returns a copy at the same size', () => {
    const src = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const out = resizeBicubicU8(src, 2, 2, 3, 2, 2);
    assert.deepEqual(out, src);
    assert.notEqual(out.buffer, src.buffer);
  });

  it('reads a view at its offset', () => {
    const whole = new Uint8Array(1 + 4 * 4).fill(9);
    whole[0] = 250;
    const out = resizeBicubicU8(whole.subarray(1), 4, 4, 1, 3, 3);
    assert.ok(out.every((v) => v === 9));
  });

  it('refuses bad arguments with clear errors', () => {
    const src = new Uint8Array(4 * 3 * 3);
    assert.throws(() => resizeBicubicU8(src, 4, 4, 3, 8, 8), {
      name: 'RangeError',
      message: 'resizeBicubicU8: src has 36 bytes; 4x4x3 needs 48',
    });
    assert.throws(() => resizeBicubicU8(src, 0, 3, 3, 8, 8), {
      name: 'TypeError',
      message: /resizeBicubicU8: width must be an integer in 1\.\.\d+, got 0/,
    });
    assert.throws(
      () => resizeBicubicU8(src, 4, 3, 3, 8, 0),
      /dstHeight must be an integer in 1\.\.\d+, got 0/,
    );
    assert.throws(() => resizeBicubicU8(src, 4, 3, 3, 0, 8), /dstWidth must be an integer/);
    assert.throws(() => resizeBicubicU8(src, 4, 3, 5, 8, 8), /channels must be an integer in 1\.\.4, got 5/);
    assert.throws(() => resizeBicubicU8(src, 4.5, 3, 3, 8, 8), /width must be an integer/);
    assert.throws(() => resizeBicubicU8(new Float32Array(36) as unknown as Uint8Array, 4, 3, 3, 8, 8), {
      name: 'TypeError',
      message: 'resizeBicubicU8: src must be a Uint8Array',
    });
    assert.throws(
      () => (resizeBicubicU8 as unknown as (...a: unknown[]) => unknown)(src, 4, 3, 3, 8),
      /resizeBicubicU8: dstHeight must be a number, got undefined/,
    );
  });
});
