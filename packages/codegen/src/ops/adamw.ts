// adamw.ts: AdamW (decoupled weight decay, as torch.optim.AdamW). Three forms:
// - adamw_forward: one parameter tensor, lr and the bias corrections as host scalars;
// - adamw_flat_forward (and adamw_flat_bf16_forward, which also writes a bf16 copy of the new
//   parameters): the whole flat trainable buffer in one launch, seen as [R, C] rows; the first
//   decay_rows rows get weight decay, and lr, bc1 = 1 - beta1^step, bc2 = 1 - beta2^step are read
//   from the device tensor hyper = [lr, bc1, bc2], so a captured CUDA graph replays it unchanged;
// - adamw_hyper_forward: advances the schedule on the device, hyper = table[step], step += 1.
// Outputs may alias inputs (each element is read, then written by the same thread). The decay
// split is by rows because kernels compare indices in the compute type: a row index and a row
// count stay exact in f32 up to 2^24 rows, where an element count would not.
import { type Ex, int, loop, max, min, select, sqrt } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign, type TensorDecl } from '../ir/tensor.js';

const oneMinus = (b: Ex) => b.neg().add(1);

/** The new moments and parameter at one element; shared by every form so they round alike. */
function adamwElement(
  at: { p: Ex; g: Ex; m: Ex; v: Ex; m_new: Ex; v_new: Ex },
  s: { lr: Ex; beta1: Ex; beta2: Ex; eps: Ex; wd: Ex; bc1: Ex; bc2: Ex },
) {
  const { p, g, m, v, m_new, v_new } = at;
  // m and v are read before they are written; the parameter reads the new moments through the
  // outputs (the lowering keeps them in registers), so in-place calls are safe
  const denom = sqrt(v_new).div(sqrt(s.bc2)).add(s.eps);
  return {
    m: m.add(g.sub(m).mul(oneMinus(s.beta1))),
    v: v.mul(s.beta2).add(g.mul(g).mul(oneMinus(s.beta2))),
    p: p.mul(oneMinus(s.lr.mul(s.wd))).sub(s.lr.div(s.bc1).mul(m_new.div(denom))),
  };
}

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
  .inPlace('p_out', 'p')
  .inPlace('m_out', 'm')
  .inPlace('v_out', 'v')
  .define(({ p_out, m_out, v_out, p, g, m, v }, { N }, { lr, beta1, beta2, eps, weight_decay, bc1, bc2 }) => {
    const i = loop('i', N);
    const e = adamwElement(
      { p: p.at(i), g: g.at(i), m: m.at(i), v: v.at(i), m_new: m_out.at(i), v_new: v_out.at(i) },
      { lr, beta1, beta2, eps, wd: weight_decay, bc1, bc2 },
    );
    return [assign(m_out, [i], e.m), assign(v_out, [i], e.v), assign(p_out, [i], e.p)];
  });

type Flat = TensorDecl<readonly ['R', 'C']>;

/** The flat step over [R, C]; the bf16 form also stores the new parameter into p_bf16. */
function flatStep(
  t: { p_out: Flat; m_out: Flat; v_out: Flat; p: Flat; g: Flat; m: Flat; v: Flat; p_bf16?: Flat },
  hyper: TensorDecl<readonly [3]>,
  { R, C }: { R: Ex; C: Ex },
  prm: { beta1: Ex; beta2: Ex; eps: Ex; weight_decay: Ex; decay_rows: Ex },
) {
  const [r, c] = [loop('r', R), loop('c', C)];
  const e = adamwElement(
    {
      p: t.p.at(r, c),
      g: t.g.at(r, c),
      m: t.m.at(r, c),
      v: t.v.at(r, c),
      m_new: t.m_out.at(r, c),
      v_new: t.v_out.at(r, c),
    },
    {
      lr: hyper.at(0),
      bc1: hyper.at(1),
      bc2: hyper.at(2),
      beta1: prm.beta1,
      beta2: prm.beta2,
      eps: prm.eps,
      wd: select(r.lt(prm.decay_rows), prm.weight_decay, 0),
    },
  );
  const out = [assign(t.m_out, [r, c], e.m), assign(t.v_out, [r, c], e.v), assign(t.p_out, [r, c], e.p)];
  if (t.p_bf16) out.push(assign(t.p_bf16, [r, c], t.p_out.at(r, c)));
  return out;
}

const FLAT_DOC =
  'AdamW over a flat [R, C] buffer in one launch; rows < decay_rows get weight decay; lr, bc1, bc2 = hyper[0..2]';

export const adamw_flat_forward = op('adamw_flat_forward', FLAT_DOC)
  .typeVar('T', ['f32', 'f64'])
  .output('p_out', '$T', ['R', 'C'])
  .output('m_out', '$T', ['R', 'C'])
  .output('v_out', '$T', ['R', 'C'])
  .input('p', '$T', ['R', 'C'])
  .input('g', '$T', ['R', 'C'])
  .input('m', '$T', ['R', 'C'])
  .input('v', '$T', ['R', 'C'])
  .input('hyper', '$T', [3], '[lr, 1 - beta1^step, 1 - beta2^step] on the device')
  .param('beta1', 'first-moment decay')
  .param('beta2', 'second-moment decay')
  .param('eps', 'added to the denominator')
  .param('weight_decay', 'decoupled weight decay of the leading rows')
  .param('decay_rows', 'rows [0, decay_rows) get weight decay, the rest none')
  .inPlace('p_out', 'p')
  .inPlace('m_out', 'm')
  .inPlace('v_out', 'v')
  .define(({ hyper, ...t }, sizes, prm) => flatStep(t, hyper, sizes, prm));

export const adamw_flat_bf16_forward = op(
  'adamw_flat_bf16_forward',
  `${FLAT_DOC}; also p_bf16 = bf16(p_out), the weights the bf16 GEMMs read`,
)
  .typeVar('T', ['f32'])
  .output('p_out', '$T', ['R', 'C'])
  .output('m_out', '$T', ['R', 'C'])
  .output('v_out', '$T', ['R', 'C'])
  .output('p_bf16', 'bf16', ['R', 'C'])
  .input('p', '$T', ['R', 'C'])
  .input('g', '$T', ['R', 'C'])
  .input('m', '$T', ['R', 'C'])
  .input('v', '$T', ['R', 'C'])
  .input('hyper', '$T', [3], '[lr, 1 - beta1^step, 1 - beta2^step] on the device')
  .param('beta1', 'first-moment decay')
  .param('beta2', 'second-moment decay')
  .param('eps', 'added to the denominator')
  .param('weight_decay', 'decoupled weight decay of the leading rows')
  .param('decay_rows', 'rows [0, decay_rows) get weight decay, the rest none')
  .inPlace('p_out', 'p')
  .inPlace('m_out', 'm')
  .inPlace('v_out', 'v')
  .define(({ hyper, ...t }, sizes, prm) => flatStep(t, hyper, sizes, prm));

export const adamw_hyper_forward = op(
  'adamw_hyper_forward',
  'hyper = table[min(max(step, 0), S - 1)]; step += 1 (the device-side AdamW schedule)',
)
  .typeVar('T', ['f32', 'f64'])
  .output('hyper_out', '$T', [3], '[lr, bc1, bc2] of the next update')
  .output('step_out', 'i32', [1], 'the row the next call reads')
  .input('table', '$T', ['S', 3], 'row s: [lr, 1 - beta1^(s+1), 1 - beta2^(s+1)] of update s (from 0)')
  .input('step', 'i32', [1], 'the row to read (clamped into the table; exact up to 2^24 in f32)')
  .constrain({ size: 'S', min: 1 })
  .inPlace('step_out', 'step')
  .define(({ hyper_out, step_out, table, step }, { S }) => {
    const [j, u] = [loop('j', 3), loop('u', 1)];
    // the row is integer index arithmetic (int64 in the kernels); the clamp keeps a stray counter
    // inside the table, the host refuses to run past its end
    const row = min(max(step.at(0), int(0)), S.sub(int(1)));
    // two kernels in this order, so step_out may alias step
    return [assign(hyper_out, [j], table.at(row, j)), assign(step_out, [u], step.at(u).add(1))];
  });
