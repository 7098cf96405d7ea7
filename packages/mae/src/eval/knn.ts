// knn.ts: the weighted k-nearest-neighbour classifier DINO evaluates features with (its
// eval_knn.knn_classifier): features L2-normalised, similarity the dot product (cosine), the k most
// similar training samples each vote for its class with weight exp(similarity / T), classes ranked
// by their summed weight; top-1 and top-5 accuracy. k = 20 and T = 0.07 as DINO.
export const KNN_K = 20;
export const KNN_TEMPERATURE = 0.07;

/** Rows of `dim` values scaled to unit L2 norm (a zero row stays zero), as F.normalize(dim=1). */
export function l2Normalise(f: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(f.length);
  for (let r = 0; r < f.length / dim; r++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += f[r * dim + j]! ** 2;
    const s = 1 / Math.max(Math.sqrt(ss), 1e-12);
    for (let j = 0; j < dim; j++) out[r * dim + j] = f[r * dim + j]! * s;
  }
  return out;
}

export interface KnnSet {
  /** L2-normalised features, row-major [count, dim] */
  features: Float32Array;
  labels: Int32Array;
}

export interface KnnOptions {
  dim: number;
  classes: number;
  k?: number;
  temperature?: number;
}

/** The k most similar training rows to `q` (row `at` of `query`): indices and similarities, best first. */
function nearest(train: KnnSet, query: Float32Array, at: number, dim: number, k: number) {
  const idx: number[] = [];
  const sim: number[] = [];
  const n = train.labels.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += train.features[i * dim + j]! * query[at * dim + j]!;
    if (idx.length === k && s <= sim[k - 1]!) continue;
    let p = Math.min(idx.length, k - 1);
    while (p > 0 && sim[p - 1]! < s) p--;
    idx.splice(p, 0, i);
    sim.splice(p, 0, s);
    if (idx.length > k) {
      idx.pop();
      sim.pop();
    }
  }
  return { idx, sim };
}

/** Each class's summed vote weight for row `at` of `query`. */
export function knnVotes(train: KnnSet, query: Float32Array, at: number, o: KnnOptions): Float64Array {
  const { idx, sim } = nearest(train, query, at, o.dim, o.k ?? KNN_K);
  const votes = new Float64Array(o.classes);
  idx.forEach((i, r) => {
    votes[train.labels[i]!]! += Math.exp(sim[r]! / (o.temperature ?? KNN_TEMPERATURE));
  });
  return votes;
}

/** Classes ranked by vote, most first (ties: the lower class first). */
export function rankClasses(votes: Float64Array): number[] {
  return Array.from(votes.keys()).sort((a, b) => votes[b]! - votes[a]! || a - b);
}

/** Top-1 and top-5 accuracy (percent) of the test rows classified by their neighbours in train. */
export function knnAccuracy(train: KnnSet, test: KnnSet, o: KnnOptions): { top1: number; top5: number } {
  const n = test.labels.length;
  if (n === 0) throw new RangeError('knn: no test samples');
  if (train.labels.length === 0) throw new RangeError('knn: no training samples');
  let top1 = 0;
  let top5 = 0;
  const within = Math.min(5, o.k ?? KNN_K);
  for (let r = 0; r < n; r++) {
    const ranked = rankClasses(knnVotes(train, test.features, r, o));
    const want = test.labels[r]!;
    if (ranked[0] === want) top1++;
    if (ranked.slice(0, within).includes(want)) top5++;
  }
  return { top1: (100 * top1) / n, top5: (100 * top5) / n };
}
