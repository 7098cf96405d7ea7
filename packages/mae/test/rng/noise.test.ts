// noise.test.ts: the masking-noise mapping (key, counter, 24-bit value), row independence, the
// argument checks, and the seed split.
import assert from 'node:assert/strict';
import { batchNoise, Streams, u32ToUniform24, uniformNoise } from '../../src/rng/noise.js';
import { philox4x32 } from '../../src/rng/philox.js';
import { seedKey } from '../../src/rng/seed.js';

describe('seedKey', () => {
  it('splits a 64-bit seed into [low, high] u32 words', () => {
    assert.deepEqual(seedKey(0), [0, 0]);
    assert.deepEqual(seedKey(42), [42, 0]);
    assert.deepEqual(seedKey(0x1_2345_6789), [0x23456789, 1]);
    assert.deepEqual(seedKey(0x0123456789abcdefn), [0x89abcdef, 0x01234567]);
    assert.deepEqual(seedKey(2n ** 64n - 1n), [0xffffffff, 0xffffffff]);
    assert.deepEqual(seedKey(Number.MAX_SAFE_INTEGER), [0xffffffff, 0x1fffff]);
  });

  it('rejects seeds outside [0, 2^64)', () => {
    assert.throws(() => seedKey(-1), RangeError);
    assert.throws(() => seedKey(1.5), RangeError);
    assert.throws(() => seedKey(2 ** 60), RangeError);
    assert.throws(() => seedKey(2n ** 64n), RangeError);
    assert.throws(() => seedKey(-1n), RangeError);
  });
});

describe('uniformNoise', () => {
  it('follows the documented mapping word for word', () => {
    const seed = 0x0123456789abcdefn;
    const [stream, step, n, count] = [3, 17, 5, 10];
    const got = uniformNoise(seed, stream, step, n, count);
    assert.equal(got.length, count);
    for (let i = 0; i < count; i++) {
      const word = philox4x32([Math.floor(i / 4), n, step, stream], [0x89abcdef, 0x01234567])[i % 4];
      assert.equal(got[i], (word >>> 8) / 16777216, `value ${i}`);
    }
  });

  it('gives 24-bit values in [0, 1), exact in float32', () => {
    assert.equal(u32ToUniform24(0), 0);
    assert.equal(u32ToUniform24(0xff), 0);
    assert.equal(u32ToUniform24(0x100), 2 ** -24);
    assert.equal(u32ToUniform24(0xffffffff), 1 - 2 ** -24);
    const v = uniformNoise(7, Streams.maskNoise, 0, 0, 4096);
    let sum = 0;
    for (const x of v) {
      assert.ok(x >= 0 && x < 1);
      assert.equal(Number.isInteger(x * 2 ** 24), true);
      sum += x;
    }
    assert.ok(Math.abs(sum / v.length - 0.5) < 0.02, `mean ${sum / v.length}`);
  });

  it('pins the first values for seed 0 (the counter-0 known answer)', () => {
    const v = uniformNoise(0, 0, 0, 0, 4);
    const words = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
    assert.deepEqual(
      [...v],
      words.map((w) => (w >>> 8) * 2 ** -24),
    );
  });

  it('is a prefix-stable function of (seed, stream, step, n)', () => {
    const a = uniformNoise(1, 0, 2, 3, 11);
    assert.deepEqual(uniformNoise(1, 0, 2, 3, 5), a.subarray(0, 5));
    assert.deepEqual(uniformNoise(1, 0, 2, 3, 11), a);
    for (const other of [
      uniformNoise(2, 0, 2, 3, 11),
      uniformNoise(1, 1, 2, 3, 11),
      uniformNoise(1, 0, 3, 3, 11),
    ]) {
      assert.notDeepEqual(other, a);
    }
    assert.notDeepEqual(uniformNoise(1, 0, 2, 4, 11), a);
  });

  it('builds a batch from independent rows', () => {
    const b = batchNoise(5, 0, 9, 3, 7, 10);
    assert.equal(b.length, 21);
    for (let n = 0; n < 3; n++)
      assert.deepEqual(b.subarray(n * 7, n * 7 + 7), uniformNoise(5, 0, 9, 10 + n, 7));
  });

  it('rejects out-of-range counter words', () => {
    assert.throws(() => uniformNoise(0, -1, 0, 0, 4), /stream/);
    assert.throws(() => uniformNoise(0, 0, 2 ** 32, 0, 4), /step/);
    assert.throws(() => uniformNoise(0, 0, 0, 1.5, 4), /row n/);
    assert.throws(() => uniformNoise(0, 0, 0, 0, -1), /count/);
  });
});
