// loader.test.ts: the epoch order is a permutation fixed by (seed, epoch), and batches are f32
// tensors [N, C, H, W] of normalised images in the given order.
import assert from 'node:assert/strict';
import { ImageDataset } from '../../src/data/dataset.js';
import { batchTensor, epochOrder } from '../../src/data/loader.js';

describe('epochOrder', () => {
  it('is a permutation, the same for the same seed and epoch', () => {
    const a = epochOrder(1, 0, 100);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(epochOrder(1, 0, 100), a);
    assert.notDeepEqual(epochOrder(1, 1, 100), a);
    assert.notDeepEqual(epochOrder(2, 0, 100), a);
    assert.notDeepEqual(
      [...a],
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});

describe('batchTensor', () => {
  it('stacks normalised images in order', async () => {
    const d = new ImageDataset({
      name: 't',
      shape: [1, 1, 2],
      pixels: Float32Array.from([0, 1, 0.5, 0.5, 1, 0]),
      mean: [0.5],
      std: [0.5],
    });
    const t = batchTensor(d, [2, 0]);
    assert.equal(t.dtype, 'f32');
    assert.deepEqual(t.shape, [2, 1, 1, 2]);
    assert.deepEqual([...(await t.toArray())], [1, -1, -1, 1]);
  });
});
