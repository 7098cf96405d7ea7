// gather.ts: row gathers by integer ids (MAE's masked gather of the kept tokens). The ids must lie
// in [0, L); the reference interpreter rejects others, the kernels trust them.
import { loop } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const gather_rows_forward = op(
  'gather_rows_forward',
  'out[b, j, :] = x[b, ids[b, j], :] (ids in [0, L))',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['B', 'J', 'D'])
  .input('x', '$T', ['B', 'L', 'D'])
  .input('ids', 'i64', ['B', 'J'], 'row indices into x, in [0, L)')
  .define(({ out, x, ids }, { B, J, D }) => {
    const [b, j, d] = [loop('b', B), loop('j', J), loop('d', D)];
    return assign(out, [b, j, d], x.at(b, ids.at(b, j), d));
  });
