// views.test.ts: the linear probe's evaluation crop is Resize(256) + CenterCrop(224) scaled to the
// input (a 224 image keeps its centre 196 pixels, 28 keeps 24), and the views' shapes and
// determinism: the training view is the same for the same seed and epoch, another for another epoch;
// fine-tuning's view (RandAugment and random erasing) keeps the same crop, and a sample's view does
// not depend on the batch it is in.
import assert from 'node:assert/strict';
import { parseRandAugment } from '../../src/data/augment/randaugment_config.js';
import { ImageDataset } from '../../src/data/dataset.js';
import { evalBatch, evalCropBox, type TrainExtras, trainBatch } from '../../src/linprobe/views.js';

describe('linear probe views', () => {
  it('crops the centre 224/256 of the image', () => {
    assert.deepEqual(evalCropBox(224), { left: 14, top: 14, width: 196, height: 196 });
    assert.deepEqual(evalCropBox(28), { left: 2, top: 2, width: 24, height: 24 });
  });

  const images = new ImageDataset({
    name: 't',
    shape: [1, 16, 16],
    pixels: Float32Array.from({ length: 3 * 256 }, (_, i) => ((i * 37) % 256) / 255),
    mean: [0.5],
    std: [0.25],
  });

  it('gives normalised [B, C, S, S] batches; the training view is seeded by epoch', async () => {
    const a = await (await trainBatch(images, [0, 2], 3, 0, 'cpu')).toFloat32Array();
    const b = await (await trainBatch(images, [0, 2], 3, 0, 'cpu')).toFloat32Array();
    const c = await (await trainBatch(images, [0, 2], 3, 1, 'cpu')).toFloat32Array();
    assert.equal(a.length, 2 * 256);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const e = evalBatch(images, [1], 'cpu');
    assert.deepEqual(e.shape, [1, 1, 16, 16]);
    for (const v of await e.toFloat32Array()) assert.ok(v >= -2 - 1e-6 && v <= 2 + 1e-6);
  });

  it("fine-tuning's view: the same crop, RandAugment and erasing per sample, whatever the batch", async () => {
    const view = async (idx: number[], extras: TrainExtras) =>
      (await trainBatch(images, idx, 3, 0, 'cpu', extras)).toFloat32Array();
    const plain = await view([0, 1, 2], {});
    // no ops and no erasing: the linear probe's view exactly
    const none = {
      randAugment: parseRandAugment('rand-n0')!,
      erasing: { prob: 0, mode: 'pixel' as const, maxCount: 1 },
    };
    assert.deepEqual(await view([0, 1, 2], none), plain);
    const full = {
      randAugment: parseRandAugment('rand-m9-mstd0.5-inc1')!,
      erasing: { prob: 1, mode: 'pixel' as const, maxCount: 1 },
    };
    const all = await view([0, 1, 2], full);
    assert.notDeepEqual(all, plain);
    for (const i of [0, 1, 2]) assert.deepEqual(await view([i], full), all.subarray(i * 256, (i + 1) * 256));
  });
});
