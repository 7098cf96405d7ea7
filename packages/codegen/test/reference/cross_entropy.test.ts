// cross_entropy.test.ts: the reference semantics of the cross-entropy ops against the loss written
// out in f64 (-log softmax at the label; -sum targets * log softmax for soft targets), with large
// logits (the max is subtracted), and one-hot soft targets equal to the integer labels.
import { getOp } from '../../src/ops/index.js';
import { evaluateOp } from '../../src/reference/interp.js';
import { near, rand } from './values.js';

describe('cross-entropy reference', () => {
  const [N, K] = [4, 6];
  const logits = rand(N * K, 5, -40, 60);
  const labels = [0, 5, 2, 2];
  const logSoftmax = (n: number, k: number) => {
    const row = logits.slice(n * K, n * K + K);
    const mx = Math.max(...row);
    return row[k]! - mx - Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
  };

  it('integer labels: loss_rows = -log softmax at the label', () => {
    const r = evaluateOp(getOp('cross_entropy_forward'), {
      logits: { shape: [N, K], data: logits },
      labels: { shape: [N], data: labels },
    });
    for (let n = 0; n < N; n++) near(r.loss_rows!.data[n]!, -logSoftmax(n, labels[n]!), `row ${n}`);
  });

  it('soft targets: loss_rows = -sum targets * log softmax; one-hot targets give the labels loss', () => {
    const targets = rand(N * K, 9, 0, 1);
    const r = evaluateOp(getOp('soft_cross_entropy_forward'), {
      logits: { shape: [N, K], data: logits },
      targets: { shape: [N, K], data: targets },
    });
    for (let n = 0; n < N; n++) {
      let want = 0;
      for (let k = 0; k < K; k++) want -= targets[n * K + k]! * logSoftmax(n, k);
      near(r.loss_rows!.data[n]!, want, `row ${n}`);
    }
    const onehot = Array.from({ length: N * K }, (_, i) => (labels[Math.floor(i / K)] === i % K ? 1 : 0));
    const h = evaluateOp(getOp('soft_cross_entropy_forward'), {
      logits: { shape: [N, K], data: logits },
      targets: { shape: [N, K], data: onehot },
    });
    for (let n = 0; n < N; n++) near(h.loss_rows!.data[n]!, -logSoftmax(n, labels[n]!), `one-hot row ${n}`);
  });
});
