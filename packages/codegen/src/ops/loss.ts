// loss.ts: MAE's reconstruction loss. Per patch, the target optionally normalised with its mean
// and *unbiased* variance ((t - mean) / sqrt(var + eps), as the official norm_pix_loss), the
// squared error averaged over the patch; then averaged over the removed patches (mask = 1).
import { loop, select, sqrt, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const mae_loss_forward = op(
  'mae_loss_forward',
  'target_n = norm_pix ? (t - mean) / sqrt(var_unbiased + eps) : t; loss_rows[n, l] = mean_p (pred - target_n)^2',
)
  .typeVar('T', FLOATS)
  .output('loss_rows', 'acc:$T', ['N', 'L'])
  .output('target_n', '$T', ['N', 'L', 'P'])
  .input('pred', '$T', ['N', 'L', 'P'])
  .input('target', '$T', ['N', 'L', 'P'])
  .param('norm_pix', '1 to normalise each target patch, 0 not to')
  .param('eps', 'added to the variance')
  .constrain({ size: 'P', min: 2 })
  .define(({ loss_rows, target_n, pred, target }, { N, L, P }, { norm_pix, eps }) => {
    const [n, l, p, k] = [loop('n', N), loop('l', L), loop('p', P), loop('k', P)];
    const mean = sum([k], target.at(n, l, k)).div(P);
    const dev = (i: typeof k) => target.at(n, l, i).sub(mean);
    const rstd = sqrt(
      sum([k], dev(k).mul(dev(k)))
        .div(P.sub(1))
        .add(eps),
    );
    const tn = (i: typeof k) => select(norm_pix.eq(1), dev(i).div(rstd), target.at(n, l, i));
    const err = (i: typeof k) => pred.at(n, l, i).sub(tn(i));
    return [
      assign(loss_rows, [n, l], sum([k], err(k).mul(err(k))).div(P)),
      assign(target_n, [n, l, p], tn(p)),
    ];
  });

export const masked_mean_forward = op(
  'masked_mean_forward',
  'loss = sum(loss_rows * mask) / sum(mask); count = sum(mask)',
)
  .typeVar('T', ['f32', 'f64'])
  .output('loss', '$T', [1])
  .output('count', '$T', [1])
  .input('loss_rows', '$T', ['N', 'L'], 'per-patch losses (non-negative)')
  .input('mask', '$T', ['N', 'L'])
  .define(({ loss, count, loss_rows, mask }, { N, L }) => {
    const [u, n, l] = [loop('u', 1), loop('n', N), loop('l', L)];
    const c = sum([n, l], mask.at(n, l));
    return [
      assign(count, [u], c),
      assign(loss, [u], sum([n, l], loss_rows.at(n, l).mul(mask.at(n, l))).div(c)),
    ];
  });

export const mae_loss_backward = op(
  'mae_loss_backward',
  'dpred = dloss * mask / count * 2 (pred - target_n) / P (the target is data: no gradient)',
)
  .typeVar('T', FLOATS)
  .output('dpred', '$T', ['N', 'L', 'P'])
  .input('pred', '$T', ['N', 'L', 'P'])
  .input('target_n', '$T', ['N', 'L', 'P'])
  .input('mask', 'acc:$T', ['N', 'L'])
  .input('count', 'acc:$T', [1])
  .input('dloss', 'acc:$T', [1])
  .define(({ dpred, pred, target_n, mask, count, dloss }, { N, L, P }) => {
    const [n, l, p] = [loop('n', N), loop('l', L), loop('p', P)];
    const scale = dloss.at(0).mul(mask.at(n, l)).div(count.at(0)).mul(2).div(P);
    return assign(dpred, [n, l, p], scale.mul(pred.at(n, l, p).sub(target_n.at(n, l, p))));
  });
