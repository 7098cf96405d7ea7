// adamw.ts: one AdamW step (decoupled weight decay, as torch.optim.AdamW) over a flat parameter
// tensor; outputs may alias inputs (each element is read, then written by the same thread).
// bc1 = 1 - beta1^step and bc2 = 1 - beta2^step are passed in, so the step lives in the caller.
import { type Ex, loop, sqrt } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';

export const adamw_forward = op(
  'adamw_forward',
  'p -= lr wd p; m, v updated; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)',
)
  .typeVar('T', ['f32', 'f64'])
  .output('p_out', '$T', ['N'])
  .output('m_out', '$T', ['N'])
  .output('v_out', '$T', ['N'])
  .input('p', '$T', ['N'])
  .input('g', '$T', ['N'])
  .input('m', '$T', ['N'])
  .input('v', '$T', ['N'])
  .param('lr', 'learning rate')
  .param('beta1', 'first-moment decay')
  .param('beta2', 'second-moment decay')
  .param('eps', 'added to the denominator')
  .param('weight_decay', 'decoupled weight decay (0 for biases and norms)')
  .param('bc1', 'bias correction 1 - beta1^step')
  .param('bc2', 'bias correction 1 - beta2^step')
  .define(({ p_out, m_out, v_out, p, g, m, v }, { N }, { lr, beta1, beta2, eps, weight_decay, bc1, bc2 }) => {
    const i = loop('i', N);
    const gi = g.at(i);
    const oneMinus = (b: Ex) => b.neg().add(1);
    // m and v are read before they are written; p_out reads the new moments through m_out/v_out
    // (the lowering keeps them in registers), so in-place calls are safe
    const denom = sqrt(v_out.at(i)).div(sqrt(bc2)).add(eps);
    return [
      assign(m_out, [i], m.at(i).add(gi.sub(m.at(i)).mul(oneMinus(beta1)))),
      assign(
        v_out,
        [i],
        v
          .at(i)
          .mul(beta2)
          .add(gi.mul(gi).mul(oneMinus(beta2))),
      ),
      assign(
        p_out,
        [i],
        p
          .at(i)
          .mul(oneMinus(lr.mul(weight_decay)))
          .sub(lr.div(bc1).mul(m_out.at(i).div(denom))),
      ),
    ];
  });
