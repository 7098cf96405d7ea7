// batchnorm.ts: BatchNorm1d without affine parameters (torch.nn.BatchNorm1d(C, affine=False), the
// linear probe's head norm) over x [N, C]: the train-mode forward normalises with the batch's
// statistics (biased variance; batchnorm1d_stats_forward, which also updates the running ones with
// momentum and the unbiased variance, as torch, then batchnorm1d_forward); the eval forward uses the
// running statistics; the backward is the train forward's.
import { loop, rsqrt, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';

const TYPES = ['f32', 'f64'] as const;

export const batchnorm1d_stats_forward = op(
  'batchnorm1d_stats_forward',
  'mean, rstd = 1/sqrt(var + eps) per channel over the batch (biased var); running_mean/var = (1 - momentum) running + momentum batch (unbiased var)',
)
  .typeVar('T', TYPES)
  .output('mean', '$T', ['C'])
  .output('rstd', '$T', ['C'])
  .output('running_mean_out', '$T', ['C'])
  .output('running_var_out', '$T', ['C'])
  .input('x', '$T', ['N', 'C'])
  .input('running_mean', '$T', ['C'])
  .input('running_var', '$T', ['C'])
  .param('eps', 'added to the variance')
  .param('momentum', "the running statistics' update factor (torch's 0.1)")
  .constrain({ size: 'N', min: 2 })
  .inPlace('running_mean_out', 'running_mean')
  .inPlace('running_var_out', 'running_var')
  .define(({ mean, rstd, running_mean_out, running_var_out, x, running_mean, running_var }, { N, C }, p) => {
    const [c, i] = [loop('c', C), loop('i', N)];
    const dev = x.at(i, c).sub(mean.at(c));
    const ss = sum([i], dev.mul(dev));
    const keep = p.momentum.neg().add(1);
    return [
      assign(mean, [c], sum([i], x.at(i, c)).div(N)),
      assign(rstd, [c], rsqrt(ss.div(N).add(p.eps))),
      assign(running_mean_out, [c], running_mean.at(c).mul(keep).add(mean.at(c).mul(p.momentum))),
      assign(
        running_var_out,
        [c],
        running_var
          .at(c)
          .mul(keep)
          .add(ss.div(N.sub(1)).mul(p.momentum)),
      ),
    ];
  });

export const batchnorm1d_forward = op(
  'batchnorm1d_forward',
  "out = (x - mean) * rstd per channel (train mode, with batchnorm1d_stats_forward's statistics)",
)
  .typeVar('T', TYPES)
  .output('out', '$T', ['N', 'C'])
  .input('x', '$T', ['N', 'C'])
  .input('mean', '$T', ['C'])
  .input('rstd', '$T', ['C'])
  .define(({ out, x, mean, rstd }, { N, C }) => {
    const [n, c] = [loop('n', N), loop('c', C)];
    return assign(out, [n, c], x.at(n, c).sub(mean.at(c)).mul(rstd.at(c)));
  });

export const batchnorm1d_eval_forward = op(
  'batchnorm1d_eval_forward',
  'out = (x - running_mean) / sqrt(running_var + eps) (eval mode)',
)
  .typeVar('T', TYPES)
  .output('out', '$T', ['N', 'C'])
  .input('x', '$T', ['N', 'C'])
  .input('running_mean', '$T', ['C'])
  .input('running_var', '$T', ['C'])
  .param('eps', 'added to the variance')
  .define(({ out, x, running_mean, running_var }, { N, C }, { eps }) => {
    const [n, c] = [loop('n', N), loop('c', C)];
    return assign(
      out,
      [n, c],
      x
        .at(n, c)
        .sub(running_mean.at(c))
        .mul(rsqrt(running_var.at(c).add(eps))),
    );
  });

export const batchnorm1d_backward = op(
  'batchnorm1d_backward',
  'dx of batchnorm1d_forward (train mode): rstd * (dout - mean_n dout - xhat * mean_n(dout * xhat))',
)
  .typeVar('T', TYPES)
  .output('dx', '$T', ['N', 'C'])
  .input('dout', '$T', ['N', 'C'])
  .input('x', '$T', ['N', 'C'])
  .input('mean', '$T', ['C'])
  .input('rstd', '$T', ['C'])
  .define(({ dx, dout, x, mean, rstd }, { N, C }) => {
    const [n, c, i] = [loop('n', N), loop('c', C), loop('i', N)];
    const xhat = (r: typeof n) => x.at(r, c).sub(mean.at(c)).mul(rstd.at(c));
    const meanG = sum([i], dout.at(i, c)).div(N);
    const meanGX = sum([i], dout.at(i, c).mul(xhat(i))).div(N);
    return assign(dx, [n, c], rstd.at(c).mul(dout.at(n, c).sub(meanG).sub(xhat(n).mul(meanGX))));
  });
