// Finite-difference gradient checks in f64 for the classifier's backward ops (the generated CPU
// f64 kernels): BatchNorm1d in train mode, the cross-entropy with integer labels and with soft
// targets, fine-tuning's drop path (through the branch; some samples dropped) and token pooling (the
// cls token and the global pool), each as d(sum(g * f))/d(input) (for the losses, of dloss * mean
// of the rows) by central differences, on odd shapes.
import * as ops from '../../generated/ops.js';
import { Tensor } from '../../src/tensor.js';
import { assertGrad, dot, empty, f64Maker, numericGrad, type T64 } from './finite_diff.js';

const t64 = f64Maker(1717);

describe('finite-difference gradient checks of the classifier ops (f64, CPU)', () => {
  it('batchnorm1d_backward (train mode: through the batch statistics)', () => {
    const [N, C] = [6, 4];
    const x = t64([N, C], -2, 3);
    const g = t64([N, C]);
    const [mean, rstd, rm, rv, y] = [empty([C]), empty([C]), t64([C]), t64([C], 0.5, 2), empty([N, C])];
    const fwd = () => {
      ops.batchnorm1d_stats_forward(mean, rstd, rm, rv, x, rm, rv, 1e-6, 0.1);
      ops.batchnorm1d_forward(y, x, mean, rstd);
      return dot(g, y);
    };
    fwd();
    const dx = empty([N, C]);
    ops.batchnorm1d_backward(dx, g, x, mean, rstd);
    assertGrad('dx', dx, numericGrad(x, fwd));
  });

  const [N, K] = [5, 7];
  const dloss = Tensor.fromArray('f64', [1], [0.7]);
  const meanLoss = (rows: T64) => (0.7 * rows.toArraySync().reduce((a, b) => a + b, 0)) / N;

  it('cross_entropy_backward (integer labels)', () => {
    const logits = t64([N, K], -3, 3);
    const labels = Tensor.fromArray('i64', [N], [0, 6, 3, 3, 1]);
    const [rows, lse] = [empty([N]), empty([N])];
    const fwd = () => {
      ops.cross_entropy_forward(rows, lse, logits, labels);
      return meanLoss(rows);
    };
    fwd();
    const d = empty([N, K]);
    ops.cross_entropy_backward(d, logits, lse, labels, dloss);
    assertGrad('dlogits', d, numericGrad(logits, fwd));
  });

  it('soft_cross_entropy_backward (soft targets, rows not summing to 1)', () => {
    const logits = t64([N, K], -3, 3);
    const targets = t64([N, K], 0, 1);
    const [rows, lse] = [empty([N]), empty([N])];
    const fwd = () => {
      ops.soft_cross_entropy_forward(rows, lse, logits, targets);
      return meanLoss(rows);
    };
    fwd();
    const d = empty([N, K]);
    ops.soft_cross_entropy_backward(d, logits, lse, targets, dloss);
    assertGrad('dlogits', d, numericGrad(logits, fwd));
  });

  it('drop_path_backward (the branch of out = residual + branch * floor(keep + u) / keep)', () => {
    const [Nd, M] = [5, 7];
    const [res, br, g] = [t64([Nd, M]), t64([Nd, M]), t64([Nd, M])];
    const u = Tensor.fromArray('f64', [Nd], [0.05, 0.5, 0.3, 0.95, 0.2]); // keep 0.75: samples 0 and 4 dropped
    const out = empty([Nd, M]);
    const fwd = () => {
      ops.drop_path_forward(out, res, br, u, 0.75);
      return dot(g, out);
    };
    fwd();
    const d = empty([Nd, M]);
    ops.drop_path_backward(d, g, u, 0.75);
    assertGrad('dbranch', d, numericGrad(br, fwd));
    assertGrad('dresidual', g, numericGrad(res, fwd));
  });

  for (const cls of [1, 0])
    it(`token_pool_backward (${cls ? 'the cls token' : 'the global pool'})`, () => {
      const [Nt, T, D] = [3, 5, 6];
      const x = t64([Nt, T, D]);
      const g = t64([Nt, D]);
      const out = empty([Nt, D]);
      const fwd = () => {
        ops.token_pool_forward(out, x, cls);
        return dot(g, out);
      };
      fwd();
      const dx = empty([Nt, T, D]);
      ops.token_pool_backward(dx, g, cls);
      assertGrad('dx', dx, numericGrad(x, fwd));
    });
});
