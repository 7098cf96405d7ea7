// tokens.ts: MAE's token bookkeeping and their backwards: the cls token prepended, the decoder's
// unshuffle with the shared mask token (positional embedding fused), and dropping the first row.
// Ids come from masking: ids_restore[n, l] is patch l's position in the shuffled order (kept when
// < J), ids_shuffle[n, j] the patch at shuffled position j.
import { loop, select, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const prepend_token_forward = op(
  'prepend_token_forward',
  'out[n, 0] = tok + pos0; out[n, 1 + j] = x[n, j] (the cls token before the kept tokens)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'T', 'D'])
  .input('x', '$T', ['N', 'J', 'D'])
  .input('tok', '$T', ['D'])
  .input('pos0', '$T', ['D'])
  .constrain({ size: 'T', equals: 'J', plus: 1 })
  .define(({ out, x, tok, pos0 }, { N, T, D }) => {
    const [n, t, d] = [loop('n', N), loop('t', T), loop('d', D)];
    return assign(out, [n, t, d], select(t.eq(0), tok.at(d).add(pos0.at(d)), x.at(n, t.sub(1), d)));
  });

export const prepend_token_backward = op(
  'prepend_token_backward',
  'dx[n, j] = dout[n, 1 + j]; dtok = sum_n dout[n, 0]',
)
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['N', 'J', 'D'])
  .output('dtok', '$T', ['D'])
  .input('dout', '$T', ['N', 'T', 'D'])
  .constrain({ size: 'T', equals: 'J', plus: 1 })
  .define(({ dx, dtok, dout }, { N, J, D }) => {
    const [n, j, d] = [loop('n', N), loop('j', J), loop('d', D)];
    const [d2, n2] = [loop('d', D), loop('n', N)];
    return [
      assign(dx, [n, j, d], dout.at(n, j.add(1), d)),
      assign(dtok, [d2], sum([n2], dout.at(n2, 0, d2))),
    ];
  });

export const unshuffle_forward = op(
  'unshuffle_forward',
  'out[n, 0] = x[n, 0] + pos[0]; out[n, 1 + l] = (ids_restore[n, l] < J ? x[n, 1 + ids_restore[n, l]] : mask_token) + pos[1 + l]',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'LP', 'D'])
  .input('x', '$T', ['N', 'T', 'D'], 'decoder-embedded tokens, cls first then the J = T - 1 kept ones')
  .input('mask_token', '$T', ['D'])
  .input('ids_restore', 'i64', ['N', 'L'])
  .input('pos', '$T', ['LP', 'D'])
  .constrain({ size: 'LP', equals: 'L', plus: 1 })
  .define(({ out, x, mask_token, ids_restore, pos }, { N, LP, D, T }) => {
    const [n, t, d] = [loop('n', N), loop('t', LP), loop('d', D)];
    const r = ids_restore.at(n, t.sub(1));
    const tok = select(r.lt(T.sub(1)), x.at(n, r.add(1), d), mask_token.at(d));
    return assign(out, [n, t, d], select(t.eq(0), x.at(n, 0, d), tok).add(pos.at(t, d)));
  });

export const unshuffle_backward = op(
  'unshuffle_backward',
  'dx[n, 0] = dout[n, 0]; dx[n, 1 + j] = dout[n, 1 + ids_shuffle[n, j]]; dmask_token = sum over masked slots of dout',
)
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['N', 'T', 'D'])
  .output('dmask_token', '$T', ['D'])
  .input('dout', '$T', ['N', 'LP', 'D'])
  .input('ids_shuffle', 'i64', ['N', 'L'])
  .input('ids_restore', 'i64', ['N', 'L'])
  .constrain({ size: 'LP', equals: 'L', plus: 1 })
  .constrain({ size: 'T', atMost: 'L', plus: 1 })
  .define(({ dx, dmask_token, dout, ids_shuffle, ids_restore }, { N, T, D, L }) => {
    const [n, t, d] = [loop('n', N), loop('t', T), loop('d', D)];
    const [d2, n2, l2] = [loop('d', D), loop('n', N), loop('l', L)];
    const masked = select(ids_restore.at(n2, l2).lt(T.sub(1)), 0, dout.at(n2, l2.add(1), d2));
    return [
      assign(
        dx,
        [n, t, d],
        select(t.eq(0), dout.at(n, 0, d), dout.at(n, ids_shuffle.at(n, t.sub(1)).add(1), d)),
      ),
      assign(dmask_token, [d2], sum([n2, l2], masked)),
    ];
  });

export const slice_rows_forward = op('slice_rows_forward', 'out[n, l] = x[n, 1 + l] (drops the cls row)')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'L', 'P'])
  .input('x', '$T', ['N', 'LP', 'P'])
  .constrain({ size: 'LP', equals: 'L', plus: 1 })
  .define(({ out, x }, { N, L, P }) => {
    const [n, l, p] = [loop('n', N), loop('l', L), loop('p', P)];
    return assign(out, [n, l, p], x.at(n, l.add(1), p));
  });

export const slice_rows_backward = op('slice_rows_backward', 'dx[n, 0] = 0; dx[n, 1 + l] = dout[n, l]')
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['N', 'LP', 'P'])
  .input('dout', '$T', ['N', 'L', 'P'])
  .constrain({ size: 'LP', equals: 'L', plus: 1 })
  .define(({ dx, dout }, { N, LP, P }) => {
    const [n, t, p] = [loop('n', N), loop('t', LP), loop('p', P)];
    return assign(dx, [n, t, p], select(t.eq(0), 0, dout.at(n, t.sub(1), p)));
  });
