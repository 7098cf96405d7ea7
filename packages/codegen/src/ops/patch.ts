// patch.ts: images to patches. `patchify_forward` is the official patchify (the loss target,
// channel innermost: 'nchpwq->nhwpqc'); `patch_im2col_forward` orders each patch (c, p, q) like a
// Conv2d weight [D, C, p, p], so the patch embedding is a GEMM with the weight viewed [D, C*p*p].
// Both see images as [N, C, GH, P, GW, Q] (a view of [N, C, H, W]) and write patches as rank-6
// tensors that are views of [N, L, P*Q*C]. `add_rows_forward` adds a [L, D] table to every sample
// (positional embeddings).
import { loop } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

const IMG = ['N', 'C', 'GH', 'P', 'GW', 'Q'] as const;

/** out[n, i, j, <inner>] = imgs[n, c, i, p, j, q], the inner order being (p, q, c) or (c, p, q). */
function patchOp(name: string, doc: string, channelLast: boolean) {
  const inner = channelLast ? (['P', 'Q', 'C'] as const) : (['C', 'P', 'Q'] as const);
  return op(name, doc)
    .typeVar('T', FLOATS)
    .output('out', '$T', ['N', 'GH', 'GW', ...inner])
    .input('imgs', '$T', IMG)
    .define(({ out, imgs }, { N, C, GH, P, GW, Q }) => {
      const [n, c, i, p, j, q] = [
        loop('n', N),
        loop('c', C),
        loop('i', GH),
        loop('p', P),
        loop('j', GW),
        loop('q', Q),
      ];
      return assign(out, channelLast ? [n, i, j, p, q, c] : [n, i, j, c, p, q], imgs.at(n, c, i, p, j, q));
    });
}

export const patchify_forward = patchOp(
  'patchify_forward',
  'out[n, i, j, p, q, c] = imgs[n, c, i, p, j, q] (official patchify)',
  true,
);

export const patch_im2col_forward = patchOp(
  'patch_im2col_forward',
  'out[n, i, j, c, p, q] = imgs[n, c, i, p, j, q] (patches in Conv2d weight order)',
  false,
);

export const add_rows_forward = op('add_rows_forward', 'out[n, l, d] = x[n, l, d] + table[l, d]')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'L', 'D'])
  .input('x', '$T', ['N', 'L', 'D'])
  .input('table', '$T', ['L', 'D'])
  .define(({ out, x, table }, { N, L, D }) => {
    const [n, l, d] = [loop('n', N), loop('l', L), loop('d', D)];
    return assign(out, [n, l, d], x.at(n, l, d).add(table.at(l, d)));
  });
