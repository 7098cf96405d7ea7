// eval/run_report.ts: the lines `pretrain` prints for its end-of-run evaluation: the kNN top-1 of
// the pretrained encoder and of the same model at random init, for the mean-pooled features (the
// headline, with the difference in points) and the cls token's, and on which images.
import { KNN_FEATURES, type RunEvaluation } from '@mae-cuda/mae';

const FEATURE_NAMES = { mean: 'mean-pooled', cls: 'cls token' } as const;

const pct = (x: number) => `${x.toFixed(1)}%`.padStart(6);

/** The report of an evaluation, one line each. */
export function evaluationLines(e: RunEvaluation): string[] {
  const where =
    e.test_pretrained_on === undefined
      ? `${e.test_images} test images`
      : e.test_pretrained_on
        ? `${e.test_images} test images (which this run also pretrained on)`
        : `${e.test_images} held-out images (not pretrained on)`;
  const lines = [
    `kNN accuracy (top-1, k ${e.k}, T ${e.temperature}) on ${where}, neighbours ${e.train_images} images:`,
    '  features      pretrained  random init',
  ];
  const order = [e.features, ...KNN_FEATURES.filter((f) => f !== e.features)];
  for (const f of order) {
    const [p, r] = [e.pretrained[f].top1, e.random_init[f].top1];
    const diff = p - r;
    lines.push(
      `  ${FEATURE_NAMES[f].padEnd(12)}  ${pct(p)}      ${pct(r)}   (${diff >= 0 ? '+' : ''}${diff.toFixed(1)} points)`,
    );
  }
  return lines;
}
