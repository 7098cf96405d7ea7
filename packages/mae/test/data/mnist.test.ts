// mnist.test.ts: the digits of the `mnist` package as a normalised [1, 28, 28] dataset, classes
// interleaved, and clear errors for missing or corrupt files.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, MNIST_MEAN, MNIST_STD, mnistDigitsDir } from '../../src/data/mnist.js';

describe('loadMnist', function () {
  this.timeout(30000);

  it('reads the shipped digits, interleaved by class, with the MNIST normalisation', () => {
    const d = loadMnist();
    assert.deepEqual(d.shape, [1, 28, 28]);
    assert.ok(d.length >= 9000, `only ${d.length} images`);
    assert.deepEqual(
      Array.from({ length: 20 }, (_, i) => d.label(i)),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(d.mean, [MNIST_MEAN]);
    assert.deepEqual(d.std, [MNIST_STD]);
    let sum = 0;
    for (let i = 0; i < 500; i++) for (const v of d.raw(i)) sum += v;
    const m = sum / (500 * 784);
    assert.ok(m > 0.08 && m < 0.2, `mean pixel ${m}`);
    const out = new Float32Array(784);
    d.readNormalized(0, out);
    assert.ok(Math.abs(out[0]! - -MNIST_MEAN / MNIST_STD) < 1e-6);
  });

  it('names the missing or corrupt file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    cpSync(mnistDigitsDir(), dir, { recursive: true });
    rmSync(join(dir, '3.json'));
    assert.throws(() => loadMnist(dir), /3\.json is missing/);
    writeFileSync(join(dir, '3.json'), '{"data": [0, 1');
    assert.throws(() => loadMnist(dir), /3\.json is not valid JSON/);
    writeFileSync(join(dir, '3.json'), JSON.stringify({ data: [0, 1, 0.5] }));
    assert.throws(() => loadMnist(dir), /3 values, not a whole number of 28x28 images/);
    writeFileSync(join(dir, '3.json'), JSON.stringify({ data: Array(784).fill(2) }));
    assert.throws(() => loadMnist(dir), /value 0 is 2, expected a number in \[0, 1\]/);
    assert.throws(() => loadMnist(join(dir, 'nope')), /folder .* is missing/);
  });
});
