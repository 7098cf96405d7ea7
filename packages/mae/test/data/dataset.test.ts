// dataset.test.ts: normalisation of the official pipeline, subsets, and refusals of bad shapes.
import assert from 'node:assert/strict';
import { ImageDataset } from '../../src/data/dataset.js';

const ds = () =>
  new ImageDataset({
    name: 't',
    shape: [2, 1, 2],
    pixels: Float32Array.from([0, 1, 0.5, 0.25, 1, 1, 0, 0, 0.2, 0.2, 0.2, 0.2]),
    mean: [0.5, 0.25],
    std: [0.5, 0.25],
  });

describe('ImageDataset', () => {
  it('normalises each channel with its mean and std', () => {
    const d = ds();
    assert.equal(d.length, 3);
    const out = new Float32Array(4);
    d.readNormalized(0, out);
    assert.deepEqual([...out], [-1, 1, 1, 0]);
  });

  it('makes subsets that share the pixels', () => {
    const s = ds().subset(1, 2);
    assert.equal(s.length, 2);
    assert.deepEqual([...s.raw(0)], [1, 1, 0, 0]);
    assert.throws(() => ds().subset(2, 2), /has 3 images/);
    assert.throws(() => s.raw(2), /outside dataset/);
  });

  it('refuses pixels that are not whole images and a wrong number of channel statistics', () => {
    assert.throws(
      () =>
        new ImageDataset({ name: 'x', shape: [1, 2, 2], pixels: new Float32Array(5), mean: [0], std: [1] }),
      /not a whole number/,
    );
    assert.throws(
      () =>
        new ImageDataset({ name: 'x', shape: [3, 2, 2], pixels: new Float32Array(12), mean: [0], std: [1] }),
      /one per channel/,
    );
  });
});
