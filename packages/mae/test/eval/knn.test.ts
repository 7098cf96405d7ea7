// knn.test.ts: the weighted kNN vote against a straightforward transcription of DINO's
// eval_knn.knn_classifier (similarity matrix, full sort for the top k, one-hot times exp(sim / T),
// summed, classes sorted), on random features; and the accuracies on a case worked by hand.
import assert from 'node:assert/strict';
import { knnAccuracy, knnVotes, l2Normalise, rankClasses } from '../../src/eval/knn.js';
import { PhiloxStream } from '../../src/rng/stream.js';

/** DINO's knn_classifier for one test row, as written there (features already normalised). */
function dinoVotes(
  train: Float32Array,
  labels: Int32Array,
  test: Float32Array,
  row: number,
  dim: number,
  k: number,
  T: number,
  C: number,
) {
  const n = labels.length;
  const sims = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += train[i * dim + j]! * test[row * dim + j]!;
    return { i, s };
  });
  const top = sims.sort((a, b) => b.s - a.s || a.i - b.i).slice(0, k); // similarity.topk(k)
  const oneHot = top.map(({ i }) => Array.from({ length: C }, (_, c) => (labels[i] === c ? 1 : 0)));
  const weights = top.map(({ s }) => Math.exp(s / T)); // (distances / T).exp()
  return Array.from({ length: C }, (_, c) => oneHot.reduce((sum, h, r) => sum + h[c]! * weights[r]!, 0));
}

describe('weighted kNN', () => {
  const rng = new PhiloxStream(3, 9);
  const dim = 8;
  const C = 6;
  const rand = (n: number) => Float32Array.from({ length: n * dim }, () => rng.normal());
  const train = l2Normalise(rand(200), dim);
  const labels = Int32Array.from({ length: 200 }, () => Math.floor(rng.uniform() * C));
  const test = l2Normalise(rand(40), dim);

  it('l2Normalise gives unit rows', () => {
    for (let r = 0; r < 3; r++) {
      const norm = Math.hypot(...train.subarray(r * dim, (r + 1) * dim));
      assert.ok(Math.abs(norm - 1) < 1e-6);
    }
  });

  it('votes as DINO knn_classifier does (k = 20, T = 0.07 and others)', () => {
    for (const [k, T] of [
      [20, 0.07],
      [1, 0.07],
      [7, 0.5],
      [200, 1],
    ] as const)
      for (let r = 0; r < 40; r++) {
        const want = dinoVotes(train, labels, test, r, dim, k, T, C);
        const got = knnVotes({ features: train, labels }, test, r, { dim, classes: C, k, temperature: T });
        want.forEach((w, c) =>
          assert.ok(
            Math.abs(got[c]! - w) <= 1e-9 * Math.max(1, w),
            `k ${k} row ${r} class ${c}: ${got[c]} vs ${w}`,
          ),
        );
      }
  });

  it('ranks classes by vote, ties to the lower class', () => {
    assert.deepEqual(rankClasses(Float64Array.from([1, 3, 3, 0])), [1, 2, 0, 3]);
  });

  it('top-1 and top-5 on a case worked by hand', () => {
    // two clusters on the axes; test points near each, one labelled against its cluster
    const f = (rows: number[][]) => l2Normalise(Float32Array.from(rows.flat()), 2);
    const tr = {
      features: f([
        [1, 0],
        [0.9, 0.1],
        [0, 1],
        [0.1, 0.9],
      ]),
      labels: Int32Array.from([0, 0, 1, 1]),
    };
    const te = {
      features: f([
        [1, 0.05],
        [0.05, 1],
        [1, 0.02],
      ]),
      labels: Int32Array.from([0, 1, 1]),
    };
    const r = knnAccuracy(tr, te, { dim: 2, classes: 2, k: 2 });
    assert.equal(r.top1, (100 * 2) / 3);
    assert.equal(r.top5, 100); // two classes: both are within the top 5
  });
});
