// batchnorm.test.ts: the reference semantics of the BatchNorm1d(affine=False) ops against
// torch.nn.BatchNorm1d's rule written out in f64: train mode normalises with the batch mean and
// biased variance, updates the running mean and the running *unbiased* variance with momentum; eval
// mode normalises with the running statistics.
import { getOp } from '../../src/ops/index.js';
import { evaluateOp } from '../../src/reference/interp.js';
import { near, rand } from './values.js';

describe('BatchNorm1d reference against torch rule', () => {
  const [N, C, eps, momentum] = [5, 3, 1e-6, 0.1];
  const x = rand(N * C, 1, -2, 3);
  const rm = rand(C, 2);
  const rv = rand(C, 3, 0.5, 2);
  const col = (c: number) => Array.from({ length: N }, (_, n) => x[n * C + c]!);

  it('train mode: batch statistics, running statistics with the unbiased variance', () => {
    const ins = {
      x: { shape: [N, C], data: x },
      running_mean: { shape: [C], data: rm },
      running_var: { shape: [C], data: rv },
    };
    const s = evaluateOp(getOp('batchnorm1d_stats_forward'), ins, { eps, momentum });
    const y = evaluateOp(getOp('batchnorm1d_forward'), {
      x: ins.x,
      mean: { shape: [C], data: [...s.mean!.data] },
      rstd: { shape: [C], data: [...s.rstd!.data] },
    });
    for (let c = 0; c < C; c++) {
      const v = col(c);
      const mean = v.reduce((a, b) => a + b, 0) / N;
      const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
      near(s.running_mean_out!.data[c]!, (1 - momentum) * rm[c]! + momentum * mean, `running_mean[${c}]`);
      near(
        s.running_var_out!.data[c]!,
        (1 - momentum) * rv[c]! + (momentum * ss) / (N - 1),
        `running_var[${c}]`,
      );
      for (let n = 0; n < N; n++)
        near(y.out!.data[n * C + c]!, (v[n]! - mean) / Math.sqrt(ss / N + eps), `out[${n}, ${c}]`);
    }
  });

  it('eval mode: the running statistics', () => {
    const y = evaluateOp(
      getOp('batchnorm1d_eval_forward'),
      {
        x: { shape: [N, C], data: x },
        running_mean: { shape: [C], data: rm },
        running_var: { shape: [C], data: rv },
      },
      { eps },
    );
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        near(y.out!.data[n * C + c]!, (x[n * C + c]! - rm[c]!) / Math.sqrt(rv[c]! + eps), `out[${n}, ${c}]`);
  });
});
