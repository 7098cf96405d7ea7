// Masking by ops equals the host's randomMasking exactly, ties in the noise included.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { maskingOnDevice, NoiseCounter } from '../../src/masking/device.js';
import { fromInt64, randomMasking } from '../../src/masking/random_masking.js';
import { batchNoise } from '../../src/rng/noise.js';
import { PhiloxStream } from '../../src/rng/stream.js';

describe('maskingOnDevice', () => {
  for (const [N, L, ratio, levels] of [
    [3, 49, 0.75, 0],
    [5, 196, 0.75, 0],
    [4, 16, 0.5, 4], // few noise levels: many ties
    [2, 7, 0.9, 2],
  ] as const)
    it(`equals randomMasking for N=${N}, L=${L}, ratio ${ratio}${levels ? `, ${levels} noise levels` : ''}`, async () => {
      const rng = new PhiloxStream(N * 1000 + L, 9);
      const noise = Float32Array.from({ length: N * L }, () => {
        const u = rng.uniform();
        return levels ? Math.floor(u * levels) / levels : u;
      });
      const host = randomMasking(noise, N, L, ratio);
      const dev = maskingOnDevice(Tensor.fromArray('f32', [N, L], noise), host.lenKeep);
      assert.deepEqual(fromInt64(await dev.idsRestore.toArray()), host.idsRestore);
      assert.deepEqual(fromInt64(await dev.idsShuffle.toArray()), host.idsShuffle);
      assert.deepEqual(await dev.mask.toArray(), host.mask);
    });
  it('rejects a bad keep count', () => {
    assert.throws(
      () => maskingOnDevice(Tensor.zeros('f32', [2, 4]), 5),
      /lenKeep must be an integer in \[0, 4\]/,
    );
  });
});

describe('NoiseCounter', () => {
  for (const [seed, stream, step, rowOffset, N, L] of [
    [0, 0, 0, 0, 3, 49],
    [2 ** 40 + 12345, 0, 977, 64, 5, 196],
    [7, 1, 3, 0, 2, 7],
  ] as const)
    it(`draws batchNoise's values bit for bit (seed ${seed}, step ${step}, rows from ${rowOffset}, L=${L})`, async () => {
      const c = new NoiseCounter(seed, stream, step, rowOffset, 'cpu');
      const dev = await c.noise(N, L).toArray();
      assert.deepEqual(dev, batchNoise(seed, stream, step, N, L, rowOffset));
    });

  it('advance() moves to the next step on the device; set() moves anywhere', async () => {
    const c = new NoiseCounter(11, 0, 5, 0, 'cpu');
    c.advance();
    assert.deepEqual(await c.noise(2, 9).toArray(), batchNoise(11, 0, 6, 2, 9));
    c.set(1, 40, 3);
    assert.deepEqual(await c.noise(2, 9).toArray(), batchNoise(11, 1, 40, 2, 9, 3));
  });

  it('refuses counters the device arithmetic cannot hold', () => {
    assert.throws(() => new NoiseCounter(0, 0, 2 ** 24, 0, 'cpu'), /step must be below 2\^24/);
    assert.throws(() => new NoiseCounter(0, 0, -1, 0, 'cpu'), /step must be an integer/);
  });
});
