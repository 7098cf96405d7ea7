// Masking by ops equals the host's randomMasking exactly, ties in the noise included.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { maskingOnDevice } from '../../src/masking/device.js';
import { fromInt64, randomMasking } from '../../src/masking/random_masking.js';
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
