// accuracy.ts: top-k accuracy of logits, as the official util/misc.accuracy (a hit when the label is
// among the k largest logits; k capped at the class count), in percent.

/** Percent of rows of logits [N, K] whose label is among their k largest, for each k of `ks`. */
export function topKAccuracy(
  logits: Float32Array,
  labels: ArrayLike<number>,
  K: number,
  ks: readonly number[],
): number[] {
  const N = labels.length;
  const hits = ks.map(() => 0);
  for (let n = 0; n < N; n++) {
    const row = logits.subarray(n * K, (n + 1) * K);
    const mine = row[labels[n]!]!;
    // rank: how many logits beat the label's (ties broken by index, as a stable sort)
    let rank = 0;
    for (let k = 0; k < K; k++) if (row[k]! > mine || (row[k] === mine && k < labels[n]!)) rank++;
    ks.forEach((k, i) => {
      if (rank < Math.min(k, K)) hits[i]!++;
    });
  }
  return hits.map((h) => (100 * h) / Math.max(1, N));
}
