// finetune.ts: the ops of fine-tuning (main_finetune.py) that touch device tensors:
// - drop path (timm DropPath, stochastic depth per sample) fused with the residual add:
//   out = residual + branch / keep_prob * floor(keep_prob + u[n]), u[n] in [0, 1) the sample's
//   uniform (drawn by philox_noise_forward from the run's counter-based stream), and its backward;
// - the classifier's pooling, models_vit's forward_features: the cls token's row (cls = 1) or the
//   mean of the patch tokens' rows (cls = 0, global pool), and its backward;
// - timm's Mixup in batch mode: images mixed with the batch flipped (mixup: x lam + flip(x) (1 - lam);
//   cutmix: the box [yl, yh) x [xl, xh) pasted from the flipped batch) and mixup_target's soft
//   targets (one-hot with label smoothing, mixed with the flipped batch's by lam).
import { type Ex, loop, select, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

const TYPES = ['f32', 'f64'] as const;

/** timm's drop_path mask over keep_prob: floor(keep_prob + u) / keep_prob, u in [0, 1). */
const keepScale = (u: Ex, keep: Ex): Ex => select(keep.add(u).lt(1), 0, 1).div(keep);

export const drop_path_forward = op(
  'drop_path_forward',
  'out[n, m] = residual[n, m] + branch[n, m] * floor(keep_prob + u[n]) / keep_prob (timm DropPath, per sample)',
)
  .typeVar('T', TYPES)
  .output('out', '$T', ['N', 'M'])
  .input('residual', '$T', ['N', 'M'])
  .input('branch', '$T', ['N', 'M'])
  .input('u', '$T', ['N'], "each sample's uniform in [0, 1)")
  .param('keep_prob', '1 - the drop probability, in (0, 1]')
  .define(({ out, residual, branch, u }, { N, M }, { keep_prob }) => {
    const [n, m] = [loop('n', N), loop('m', M)];
    return assign(out, [n, m], residual.at(n, m).add(branch.at(n, m).mul(keepScale(u.at(n), keep_prob))));
  });

export const drop_path_backward = op(
  'drop_path_backward',
  "dbranch[n, m] = dout[n, m] * floor(keep_prob + u[n]) / keep_prob (the residual's gradient is dout)",
)
  .typeVar('T', TYPES)
  .output('dbranch', '$T', ['N', 'M'])
  .input('dout', '$T', ['N', 'M'])
  .input('u', '$T', ['N'], "each sample's uniform in [0, 1)")
  .param('keep_prob', '1 - the drop probability, in (0, 1]')
  .define(({ dbranch, dout, u }, { N, M }, { keep_prob }) => {
    const [n, m] = [loop('n', N), loop('m', M)];
    return assign(dbranch, [n, m], dout.at(n, m).mul(keepScale(u.at(n), keep_prob)));
  });

export const token_pool_forward = op(
  'token_pool_forward',
  'out[n, d] = cls ? x[n, 0, d] : mean over t >= 1 of x[n, t, d] (the cls token, or the global pool without it)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'D'])
  .input('x', '$T', ['N', 'T', 'D'], 'the cls token first, then T - 1 patch tokens')
  .param('cls', '1: the cls token; 0: the mean of the patch tokens')
  .constrain({ size: 'T', min: 2 })
  .define(({ out, x }, { N, T, D }, { cls }) => {
    const [n, d, t] = [loop('n', N), loop('d', D), loop('t', T)];
    const mean = sum([t], select(t.eq(0), 0, x.at(n, t, d))).div(T.sub(1));
    return assign(out, [n, d], select(cls.eq(1), x.at(n, 0, d), mean));
  });

export const token_pool_backward = op(
  'token_pool_backward',
  'dx[n, t, d] = cls ? (t == 0) dout[n, d] : (t >= 1) dout[n, d] / (T - 1)',
)
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['N', 'T', 'D'])
  .input('dout', '$T', ['N', 'D'])
  .param('cls', '1: the cls token; 0: the mean of the patch tokens')
  .constrain({ size: 'T', min: 2 })
  .define(({ dx, dout }, { N, T, D }, { cls }) => {
    const [n, t, d] = [loop('n', N), loop('t', T), loop('d', D)];
    const g = dout.at(n, d);
    return assign(
      dx,
      [n, t, d],
      select(cls.eq(1), select(t.eq(0), g, 0), select(t.eq(0), 0, g.div(T.sub(1)))),
    );
  });

export const mixup_forward = op(
  'mixup_forward',
  "out[n] = x[n] lam + x[N - 1 - n] (1 - lam) (timm Mixup's batch mixup with the flipped batch)",
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'M'])
  .input('x', '$T', ['N', 'M'], 'the batch, each image flattened')
  .param('lam', 'the mixing weight of the batch itself')
  .define(({ out, x }, { N, M }, { lam }) => {
    const [n, m] = [loop('n', N), loop('m', M)];
    const flipped = x.at(N.sub(1).sub(n), m);
    return assign(
      out,
      [n, m],
      x
        .at(n, m)
        .mul(lam)
        .add(flipped.mul(lam.neg().add(1))),
    );
  });

export const cutmix_forward = op(
  'cutmix_forward',
  'out[n, c, h, w] = x[N - 1 - n, c, h, w] inside the box yl <= h < yh, xl <= w < xh, else x[n, c, h, w]',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'C', 'H', 'W'])
  .input('x', '$T', ['N', 'C', 'H', 'W'])
  .param('yl', 'first row of the box')
  .param('yh', 'one past its last row')
  .param('xl', 'first column of the box')
  .param('xh', 'one past its last column')
  .define(({ out, x }, { N, C, H, W }, { yl, yh, xl, xh }) => {
    const [n, c, h, w] = [loop('n', N), loop('c', C), loop('h', H), loop('w', W)];
    const own = x.at(n, c, h, w);
    const pasted = x.at(N.sub(1).sub(n), c, h, w);
    const inCols = select(xl.le(w), select(w.lt(xh), pasted, own), own);
    return assign(out, [n, c, h, w], select(yl.le(h), select(h.lt(yh), inCols, own), own));
  });

export const mixup_target_forward = op(
  'mixup_target_forward',
  "targets[n, k] = lam y(labels[n])[k] + (1 - lam) y(labels[N - 1 - n])[k], y(l) = one-hot of l valued on_value, else off_value (timm's mixup_target)",
)
  .typeVar('T', TYPES)
  .output('targets', '$T', ['N', 'K'])
  .input('labels', 'i64', ['N'], 'class indices in [0, K)')
  .param('lam', 'the weight of the batch itself')
  .param('on_value', '1 - smoothing + smoothing / K')
  .param('off_value', 'smoothing / K')
  .define(({ targets, labels }, { N, K }, { lam, on_value, off_value }) => {
    const [n, k] = [loop('n', N), loop('k', K)];
    const y = (label: Ex) => select(k.eq(label), on_value, off_value);
    const mixed = y(labels.at(n))
      .mul(lam)
      .add(y(labels.at(N.sub(1).sub(n))).mul(lam.neg().add(1)));
    return assign(targets, [n, k], mixed);
  });
