// images.test.ts: the MNIST split of the evaluations (knn, linprobe, the end of pretrain): the
// neighbours are the first digits and the test digits the last of the class-balanced ones, 100 of
// each class for 1,000 (the shipped last 1,000 hold no 5), clear of the default pretraining's.
import assert from 'node:assert/strict';
import { preset } from '../../src/config/presets.js';
import { loadMnist } from '../../src/data/mnist.js';
import { balancedDigits, openEvalImages } from '../../src/eval/images.js';

const counts = (labels: Int32Array) => {
  const c = new Array<number>(10).fill(0);
  for (const l of labels) c[l]!++;
  return c;
};

describe('evaluation images (MNIST)', () => {
  const mc = preset('mae_tiny_28');

  it('tests on the last class-balanced digits, 100 of each class', async () => {
    const all = loadMnist();
    const balanced = balancedDigits(all);
    const perClass = counts(Int32Array.from({ length: all.length }, (_, k) => all.label(k)!));
    assert.equal(balanced, 10 * Math.min(...perClass));
    const d = await openEvalImages('mnist', mc, { train: 5000, test: 1000, seed: 0 });
    assert.equal(d.testFrom, balanced - 1000);
    assert.deepEqual(counts(d.test.labels), new Array(10).fill(100));
    assert.deepEqual(counts(d.train.labels), new Array(10).fill(500));
    assert.deepEqual(d.test.images.raw(999), all.raw(balanced - 1));
  });

  it('refuses neighbours that would reach the test digits, naming the balanced count', async () => {
    await assert.rejects(
      openEvalImages('mnist', mc, { train: 8000, test: 1000, seed: 0 }),
      /mnist \(its class-balanced first \d+ of \d+ digits\) holds \d+ images; --train 8000 \+ --test 1000 asks for more/,
    );
  });
});
