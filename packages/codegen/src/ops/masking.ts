// masking.ts: MAE's random masking as ops, so it runs where the model runs (the GPU included) and
// gives the same integers as the host code: per row, ids_restore is the rank of each noise value
// (ascending, ties broken by index: a stable argsort's inverse), ids_shuffle its inverse
// permutation, and mask = 1 where the rank is not among the first `keep`. O(L^2) per row: fine
// for the few hundred patches MAE has, and exact (ranks are small integers even in f32).
import { loop, select, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';

export const mask_ranks_forward = op(
  'mask_ranks_forward',
  'ids_restore[n, l] = #{k : (noise[n, k], k) < (noise[n, l], l)} (a stable argsort of the noise, inverted)',
)
  .output('ids_restore', 'i64', ['N', 'L'])
  .input('noise', 'f32', ['N', 'L'])
  .define(({ ids_restore, noise }, { N, L }) => {
    const [n, l, k] = [loop('n', N), loop('l', L), loop('k', L)];
    const [a, b] = [noise.at(n, k), noise.at(n, l)];
    return assign(
      ids_restore,
      [n, l],
      sum([k], select(a.lt(b), 1, select(a.eq(b), select(k.lt(l), 1, 0), 0))),
    );
  });

export const ids_invert_forward = op(
  'ids_invert_forward',
  'ids_shuffle[n, r] = the l with ids_restore[n, l] = r',
)
  .output('ids_shuffle', 'i64', ['N', 'L'])
  .input('ids_restore', 'i64', ['N', 'L'])
  .define(({ ids_shuffle, ids_restore }, { N, L }) => {
    const [n, r, l] = [loop('n', N), loop('r', L), loop('l', L)];
    return assign(ids_shuffle, [n, r], sum([l], select(ids_restore.at(n, l).eq(r), l, 0)));
  });

export const mask_from_ranks_forward = op(
  'mask_from_ranks_forward',
  'mask[n, l] = ids_restore[n, l] < keep ? 0 : 1',
)
  .output('mask', 'f32', ['N', 'L'])
  .input('ids_restore', 'i64', ['N', 'L'])
  .param('keep', 'how many patches each row keeps')
  .define(({ mask, ids_restore }, { N, L }, { keep }) => {
    const [n, l] = [loop('n', N), loop('l', L)];
    return assign(mask, [n, l], select(ids_restore.at(n, l).lt(keep), 0, 1));
  });
