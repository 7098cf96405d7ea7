// accuracy.test.ts: topKAccuracy against a transcription of the official util/misc.accuracy
// (output.topk(maxk) then a hit when the target is among the first k), k capped at the classes.
import assert from 'node:assert/strict';
import { topKAccuracy } from '../../src/linprobe/accuracy.js';

/** misc.accuracy: pred = indices of the k largest (a stable descending sort), correct = target in them. */
function official(logits: Float32Array, labels: number[], K: number, k: number): number {
  let hits = 0;
  labels.forEach((y, n) => {
    const row = Array.from(logits.subarray(n * K, (n + 1) * K));
    const order = row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    if (order.slice(0, Math.min(k, K)).some(([, i]) => i === y)) hits++;
  });
  return (100 * hits) / labels.length;
}

describe('topKAccuracy', () => {
  it('matches misc.accuracy for top-1 and top-5 (ties by index)', () => {
    const [N, K] = [50, 8];
    let s = 7;
    const logits = Float32Array.from({ length: N * K }, () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((s / 2 ** 31) * 6); // few distinct values: many ties
    });
    const labels = Array.from({ length: N }, (_, n) => (n * 5) % K);
    const [t1, t5] = topKAccuracy(logits, labels, K, [1, 5]);
    assert.equal(t1, official(logits, labels, K, 1));
    assert.equal(t5, official(logits, labels, K, 5));
  });

  it('caps k at the class count (every label in the top 5 of 3 classes)', () => {
    assert.deepEqual(topKAccuracy(Float32Array.from([3, 2, 1, 1, 2, 3]), [2, 2], 3, [1, 5]), [50, 100]);
  });
});
