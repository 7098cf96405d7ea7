// random_masking.test.ts: the official random_masking on hand-made rows, its invariants on random
// noise, ties, the ids entry points, and the parity fixture's mask and ids_restore.
import assert from 'node:assert/strict';
import { argsortRows, invertPermutationRows } from '../../src/masking/argsort.js';
import {
  fromInt64,
  maskingFromRestore,
  maskingFromShuffle,
  randomMasking,
  toInt64,
} from '../../src/masking/random_masking.js';
import { batchNoise } from '../../src/rng/noise.js';
import { f32, i64, loadTensors, requireParityDir } from '../config/parity_fixture.js';

describe('argsortRows', () => {
  it('sorts each row ascending, ties by index', () => {
    const v = [0.5, 0.1, 0.9, 0.1, /* row 2 */ 3, 2, 1, 0];
    assert.deepEqual([...argsortRows(v, 2, 4)], [1, 3, 0, 2, 3, 2, 1, 0]);
    assert.deepEqual([...argsortRows([1, 1, 1, 0, 1], 1, 5)], [3, 0, 1, 2, 4]);
  });

  it('rejects NaN and wrong shapes', () => {
    assert.throws(() => argsortRows([0, Number.NaN], 1, 2), /NaN/);
    assert.throws(() => argsortRows([0, 1, 2], 2, 2), /expected N\*L/);
  });
});

describe('invertPermutationRows', () => {
  it('inverts and rejects non-permutations', () => {
    assert.deepEqual([...invertPermutationRows([2, 0, 1], 1, 3)], [1, 2, 0]);
    assert.throws(() => invertPermutationRows([0, 0, 1], 1, 3), /not a permutation/);
    assert.throws(() => invertPermutationRows([0, 3, 1], 1, 3), /not a permutation/);
  });
});

describe('randomMasking', () => {
  it('matches a hand-worked row', () => {
    // noise  0.7 0.2 0.9 0.4 0.1 0.8 0.3 0.6, L = 8, ratio 0.75 -> keep int(8 * 0.25) = 2
    const m = randomMasking([0.7, 0.2, 0.9, 0.4, 0.1, 0.8, 0.3, 0.6], 1, 8, 0.75);
    assert.equal(m.lenKeep, 2);
    assert.deepEqual([...m.idsShuffle], [4, 1, 6, 3, 7, 0, 5, 2]);
    assert.deepEqual([...m.idsRestore], [5, 1, 7, 3, 0, 6, 2, 4]);
    assert.deepEqual([...m.idsKeep], [4, 1]);
    assert.deepEqual([...m.mask], [1, 0, 1, 1, 0, 1, 1, 1]);
  });

  it('keeps the len_keep smallest noise values of every row', () => {
    const [N, L] = [6, 49];
    const noise = batchNoise(3, 0, 0, N, L);
    const m = randomMasking(noise, N, L, 0.75);
    assert.equal(m.lenKeep, 12);
    for (let n = 0; n < N; n++) {
      const row = noise.subarray(n * L, (n + 1) * L);
      const threshold: number = Array.from(row).sort((a, b) => a - b)[m.lenKeep - 1];
      let kept = 0;
      for (let j = 0; j < L; j++) {
        assert.equal(m.mask[n * L + j], row[j] <= threshold ? 0 : 1);
        kept += m.mask[n * L + j] === 0 ? 1 : 0;
        // gather(mask_sorted, ids_restore): position j sits at rank ids_restore[j]
        assert.equal(m.mask[n * L + j], m.idsRestore[n * L + j] >= m.lenKeep ? 1 : 0);
        assert.equal(m.idsShuffle[n * L + m.idsRestore[n * L + j]], j);
      }
      assert.equal(kept, m.lenKeep);
      for (let k = 0; k < m.lenKeep; k++) assert.equal(m.idsKeep[n * m.lenKeep + k], m.idsShuffle[n * L + k]);
    }
  });

  it('breaks ties by index', () => {
    const m = randomMasking([0.5, 0.5, 0.5, 0.5], 1, 4, 0.5);
    assert.deepEqual([...m.idsShuffle], [0, 1, 2, 3]);
    assert.deepEqual([...m.mask], [0, 0, 1, 1]);
  });

  it('accepts the caller ids (shuffle or restore) and agrees with the noise path', () => {
    const noise = batchNoise(9, 0, 1, 3, 16);
    const a = randomMasking(noise, 3, 16, 0.75);
    assert.deepEqual(maskingFromShuffle(a.idsShuffle, 3, 16, 4), a);
    assert.deepEqual(maskingFromRestore(a.idsRestore, 3, 16, 4), a);
    assert.throws(() => maskingFromShuffle(a.idsShuffle, 3, 16, 17), /len_keep/);
  });

  it('converts ids to and from I64', () => {
    const ids = Int32Array.from([0, 5, 2147483647]);
    assert.deepEqual(toInt64(ids), BigInt64Array.from([0n, 5n, 2147483647n]));
    assert.deepEqual(fromInt64(toInt64(ids)), ids);
    assert.throws(() => fromInt64(BigInt64Array.from([2n ** 31n])), /int32/);
  });

  it('reproduces the parity fixture mask and ids_restore', async function () {
    const dir = requireParityDir(this);
    const inputs = await loadTensors(dir, 'inputs');
    const expected = await loadTensors(dir, 'expected');
    const noiseT = inputs.get('noise');
    assert.ok(noiseT);
    const [N, L] = noiseT.shape;
    const m = randomMasking(f32(noiseT, 'noise'), N, L, 0.75);
    assert.deepEqual(m.mask, f32(expected.get('mask'), 'mask'));
    assert.deepEqual(toInt64(m.idsRestore), i64(expected.get('ids_restore'), 'ids_restore'));
    assert.deepEqual(expected.get('ids_restore')?.shape, [N, L]);
  });
});
