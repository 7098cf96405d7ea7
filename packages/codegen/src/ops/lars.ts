// lars.ts: one LARS step on one parameter tensor, as the official util/lars.py (MoCo v3's): for a
// parameter with more than one dimension (adapt = 1) the update is g + weight_decay * p scaled by
// the trust ratio trust_coefficient * |p| / |update| (1 when either norm is 0); biases and norms
// (adapt = 0) take the plain gradient. mu = momentum * mu + update; p -= lr * mu. Two ops, since a
// kernel cannot read a whole-tensor reduction it writes: lars_norms_forward, then lars_forward.
import { type Ex, lift, loop, select, sqrt, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';

const positive = (x: Ex) => lift(0).lt(x);

export const lars_norms_forward = op(
  'lars_norms_forward',
  "norms = [|p|, |g + weight_decay p|], the trust ratio's norms for lars_forward",
)
  .typeVar('T', ['f32', 'f64'])
  .output('norms', '$T', [2])
  .input('p', '$T', ['N'])
  .input('g', '$T', ['N'])
  .param('weight_decay', 'weight decay')
  .define(({ norms, p, g }, { N }, { weight_decay }) => {
    const [k, j] = [loop('k', 2), loop('j', N)];
    const upd = g.at(j).add(p.at(j).mul(weight_decay));
    const sq = select(k.eq(0), p.at(j).mul(p.at(j)), upd.mul(upd));
    return assign(norms, [k], sqrt(sum([j], sq)));
  });

export const lars_forward = op(
  'lars_forward',
  'adapt: d = (g + wd p) * q, q = tc |p| / |g + wd p| (1 if a norm is 0), else d = g; mu = momentum mu + d; p -= lr mu',
)
  .typeVar('T', ['f32', 'f64'])
  .output('p_out', '$T', ['N'])
  .output('mu_out', '$T', ['N'])
  .input('p', '$T', ['N'])
  .input('g', '$T', ['N'])
  .input('mu', '$T', ['N'], 'the momentum buffer (zeros before the first step)')
  .input('norms', '$T', [2], '[|p|, |g + weight_decay p|] from lars_norms_forward (read only when adapt = 1)')
  .param('lr', 'learning rate')
  .param('momentum', 'momentum (0.9)')
  .param('weight_decay', 'weight decay (applied only when adapt = 1)')
  .param('trust_coefficient', "the trust ratio's coefficient (0.001)")
  .param('adapt', '1 for a parameter with more than one dimension, 0 for biases and norms')
  .inPlace('p_out', 'p')
  .inPlace('mu_out', 'mu')
  .define(({ p_out, mu_out, p, g, mu, norms }, { N }, prm) => {
    const i = loop('i', N);
    const [pn, un] = [norms.at(0), norms.at(1)];
    const q = select(positive(pn), select(positive(un), prm.trust_coefficient.mul(pn).div(un), 1), 1);
    const upd = g.at(i).add(p.at(i).mul(prm.weight_decay)).mul(q);
    const d = select(prm.adapt.eq(1), upd, g.at(i));
    return [
      assign(mu_out, [i], mu.at(i).mul(prm.momentum).add(d)),
      assign(p_out, [i], p.at(i).sub(mu_out.at(i).mul(prm.lr))),
    ];
  });
