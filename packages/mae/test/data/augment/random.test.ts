// random.test.ts: sampleRandom is a pure function of (seed, epoch, index) with the documented
// Philox mapping, and its own stream.
import assert from 'node:assert/strict';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { Streams } from '../../../src/rng/noise.js';
import { philox4x32 } from '../../../src/rng/philox.js';

const take = (f: () => number, n: number) => Array.from({ length: n }, f);

describe('sampleRandom', () => {
  it('follows the documented counter and word mapping', () => {
    const got = take(sampleRandom(0x0123456789abcdefn, 5, 1234), 6);
    const key: [number, number] = [0x89abcdef, 0x01234567];
    const words = [0, 1, 2].flatMap((b) => philox4x32([b, 1234, 5, Streams.augment], key));
    const want = [0, 1, 2, 3, 4, 5].map(
      (i) => ((words[2 * i] >>> 5) * 2 ** 26 + (words[2 * i + 1] >>> 6)) * 2 ** -53,
    );
    assert.deepEqual(got, want);
  });

  it('gives the same draws for the same (seed, epoch, index), whatever was drawn before', () => {
    const a = take(sampleRandom(42, 3, 17), 30);
    take(sampleRandom(42, 3, 16), 1000);
    assert.deepEqual(take(sampleRandom(42, 3, 17), 30), a);
    for (const u of a) assert.ok(u >= 0 && u < 1);
  });

  it('differs across seed, epoch and index, and from the masking noise stream', () => {
    const base = take(sampleRandom(42, 3, 17), 4);
    for (const other of [sampleRandom(43, 3, 17), sampleRandom(42, 4, 17), sampleRandom(42, 3, 18)]) {
      assert.notDeepEqual(take(other, 4), base);
    }
    assert.notEqual(Streams.augment, Streams.maskNoise);
    assert.notEqual(Streams.augment, Streams.preview);
    assert.ok(Streams.augment < Streams.initBase);
  });

  it('flips about half of the samples (draw 0 below 0.5)', () => {
    let flips = 0;
    for (let i = 0; i < 10000; i++) if (sampleRandom(9, 0, i)() < 0.5) flips++;
    assert.ok(Math.abs(flips - 5000) < 200, `${flips} flips of 10000`);
  });

  it('rejects an epoch or index outside u32', () => {
    assert.throws(() => sampleRandom(1, -1, 0), RangeError);
    assert.throws(() => sampleRandom(1, 0, 2 ** 32), RangeError);
    assert.throws(() => sampleRandom(1, 0.5, 0), RangeError);
  });
});
