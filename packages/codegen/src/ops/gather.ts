// gather.ts: row gathers by integer ids (MAE's masked gather of the kept tokens). The ids must lie
// in [0, L); the reference interpreter rejects others, and the kernels clamp an id into the
// dimension it indexes (emit/render.ts), so a bad id gives a wrong row, never a read outside x.
import { loop, select } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const gather_rows_forward = op(
  'gather_rows_forward',
  'out[b, j, :] = x[b, ids[b, j], :] for j < J (ids in [0, L); ids_shuffle can be passed whole)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['B', 'J', 'D'])
  .input('x', '$T', ['B', 'L', 'D'])
  .input('ids', 'i64', ['B', 'LI'], 'row indices into x, in [0, L); only the first J of each row are read')
  .constrain({ size: 'J', atMost: 'LI' })
  .define(({ out, x, ids }, { B, J, D }) => {
    const [b, j, d] = [loop('b', B), loop('j', J), loop('d', D)];
    return assign(out, [b, j, d], x.at(b, ids.at(b, j), d));
  });

export const gather_rows_backward = op(
  'gather_rows_backward',
  'dx[b, l, :] = ids_restore[b, l] < J ? dout[b, ids_restore[b, l], :] : 0 (the scatter of the gather by kept ids)',
)
  .typeVar('T', FLOATS)
  .output('dx', '$T', ['B', 'L', 'D'])
  .input('dout', '$T', ['B', 'J', 'D'])
  .input('ids_restore', 'i64', ['B', 'L'], "each row's position in the shuffled order, in [0, L)")
  .define(({ dx, dout, ids_restore }, { B, L, D, J }) => {
    const [b, l, d] = [loop('b', B), loop('l', L), loop('d', D)];
    const r = ids_restore.at(b, l);
    return assign(dx, [b, l, d], select(r.lt(J), dout.at(b, r, d), 0));
  });
