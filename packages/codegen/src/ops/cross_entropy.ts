// cross_entropy.ts: softmax cross-entropy (torch.nn.CrossEntropyLoss with integer labels, timm's
// SoftTargetCrossEntropy with soft targets): the forward gives each row's loss and log-sum-exp (the
// loss is the rows' mean, taken by the caller), the backward the logits' gradient for the mean's
// gradient dloss.
import { type Ex, exp, log, loop, maxOver, select, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign, type TensorDecl } from '../ir/tensor.js';

const TYPES = ['f32', 'f64'] as const;

/** lse[n] = max + log(sum exp(logits[n, :] - max)). */
function logSumExp(logits: TensorDecl<readonly ['N', 'K']>, n: Ex, K: Ex): Ex {
  const k = loop('k', K);
  const mx = maxOver([k], logits.at(n, k));
  return mx.add(log(sum([k], exp(logits.at(n, k).sub(mx)))));
}

export const cross_entropy_forward = op(
  'cross_entropy_forward',
  'loss_rows[n] = lse[n] - logits[n, labels[n]], lse[n] = log sum_k exp logits[n, k] (labels in [0, K)); the loss is their mean',
)
  .typeVar('T', TYPES)
  .output('loss_rows', '$T', ['N'])
  .output('lse', '$T', ['N'])
  .input('logits', '$T', ['N', 'K'])
  .input('labels', 'i64', ['N'], 'class indices in [0, K)')
  .constrain({ size: 'K', min: 1 })
  .define(({ loss_rows, lse, logits, labels }, { N, K }) => {
    const n = loop('n', N);
    return [
      assign(lse, [n], logSumExp(logits, n, K)),
      assign(loss_rows, [n], lse.at(n).sub(logits.at(n, labels.at(n)))),
    ];
  });

export const cross_entropy_backward = op(
  'cross_entropy_backward',
  'dlogits[n, k] = dloss / N * (exp(logits[n, k] - lse[n]) - (k == labels[n]))',
)
  .typeVar('T', TYPES)
  .output('dlogits', '$T', ['N', 'K'])
  .input('logits', '$T', ['N', 'K'])
  .input('lse', '$T', ['N'])
  .input('labels', 'i64', ['N'], 'class indices in [0, K)')
  .input('dloss', '$T', [1])
  .define(({ dlogits, logits, lse, labels, dloss }, { N, K }) => {
    const [n, k] = [loop('n', N), loop('k', K)];
    const p = exp(logits.at(n, k).sub(lse.at(n)));
    const onehot = select(k.eq(labels.at(n)), 1, 0);
    return assign(dlogits, [n, k], dloss.at(0).div(N).mul(p.sub(onehot)));
  });

export const soft_cross_entropy_forward = op(
  'soft_cross_entropy_forward',
  'loss_rows[n] = sum_k targets[n, k] (lse[n] - logits[n, k]) (soft targets, as timm SoftTargetCrossEntropy); the loss is their mean',
)
  .typeVar('T', TYPES)
  .output('loss_rows', '$T', ['N'])
  .output('lse', '$T', ['N'])
  .input('logits', '$T', ['N', 'K'])
  .input('targets', '$T', ['N', 'K'], 'a distribution over the K classes per row')
  .constrain({ size: 'K', min: 1 })
  .define(({ loss_rows, lse, logits, targets }, { N, K }) => {
    const [n, j] = [loop('n', N), loop('j', K)];
    const row = sum([j], targets.at(n, j).mul(lse.at(n).sub(logits.at(n, j))));
    return [assign(lse, [n], logSumExp(logits, n, K)), assign(loss_rows, [n], row)];
  });

export const soft_cross_entropy_backward = op(
  'soft_cross_entropy_backward',
  'dlogits[n, k] = dloss / N * (exp(logits[n, k] - lse[n]) * sum_j targets[n, j] - targets[n, k])',
)
  .typeVar('T', TYPES)
  .output('dlogits', '$T', ['N', 'K'])
  .input('logits', '$T', ['N', 'K'])
  .input('lse', '$T', ['N'])
  .input('targets', '$T', ['N', 'K'])
  .input('dloss', '$T', [1])
  .define(({ dlogits, logits, lse, targets, dloss }, { N, K }) => {
    const [n, k, j] = [loop('n', N), loop('k', K), loop('j', K)];
    const p = exp(logits.at(n, k).sub(lse.at(n)));
    const mass = sum([j], targets.at(n, j));
    return assign(
      dlogits,
      [n, k],
      dloss
        .at(0)
        .div(N)
        .mul(p.mul(mass).sub(targets.at(n, k))),
    );
  });
