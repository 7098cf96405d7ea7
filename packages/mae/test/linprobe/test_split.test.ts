// test_split.test.ts: the held-out split found beside a training split: t10k idx files beside train
// ones, CIFAR-10's test_batch.bin beside data_batch_N.bin, CIFAR-100's test.bin beside train.bin; none
// for a folder with the test split alone, an image folder or the shipped MNIST.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testSplitOf } from '../../src/linprobe/test_split.js';

function folder(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'mae-split-'));
  for (const n of names) writeFileSync(join(dir, n), '');
  return dir;
}

describe('testSplitOf', () => {
  it('finds the t10k idx files beside the train ones', async () => {
    const dir = folder([
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz',
    ]);
    assert.equal(await testSplitOf(dir), join(dir, 't10k-images-idx3-ubyte.gz'));
    assert.equal(await testSplitOf(folder(['t10k-images-idx3-ubyte'])), undefined);
  });

  it("finds CIFAR's test batch beside the training batches", async () => {
    const c10 = folder(['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']);
    assert.equal(await testSplitOf(c10, 'cifar'), join(c10, 'test_batch.bin'));
    const c100 = folder(['train.bin', 'test.bin']);
    assert.equal(await testSplitOf(c100, 'cifar'), join(c100, 'test.bin'));
  });

  it('has none for an image folder or the shipped digits', async () => {
    const dir = folder([]);
    mkdirSync(join(dir, 'cats'));
    assert.equal(await testSplitOf(dir, 'folder'), undefined);
    assert.equal(await testSplitOf('mnist'), undefined);
  });
});
