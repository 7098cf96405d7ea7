// layernorm.ts: LayerNorm over the last axis (biased variance, eps a parameter) and its backward.
// Statistics (mean, rstd) are kept in the accumulation type (f32, or f64 for f64).
import { type Ex, loop, rsqrt, sum } from '../ir/expr.js';
import { type OpBuilder, op } from '../ir/op.js';
import { assign, type TensorDecl } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const layernorm_forward = op(
  'layernorm_forward',
  'out = (x - mean) * rstd * weight + bias over the last axis; saves mean and rstd = 1/sqrt(var + eps)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .output('mean', 'acc:$T', ['M'])
  .output('rstd', 'acc:$T', ['M'])
  .input('x', '$T', ['M', 'N'])
  .input('weight', '$T', ['N'])
  .input('bias', '$T', ['N'])
  .param('eps', 'added to the variance')
  .constrain({ size: 'N', min: 1 })
  .cudaHints({ threads: 256 })
  .define(({ out, mean, rstd, x, weight, bias }, { M, N }, { eps }) => {
    const [m, n, k] = [loop('m', M), loop('n', N), loop('k', N)];
    return [
      assign(mean, [m], sum([k], x.at(m, k)).div(N)),
      assign(
        rstd,
        [m],
        rsqrt(
          sum(
            [k],
            x
              .at(m, k)
              .sub(mean.at(m))
              .mul(x.at(m, k).sub(mean.at(m))),
          )
            .div(N)
            .add(eps),
        ),
      ),
      assign(out, [m, n], x.at(m, n).sub(mean.at(m)).mul(rstd.at(m)).mul(weight.at(n)).add(bias.at(n))),
    ];
  });

type Rows = TensorDecl<readonly ['M', 'N']>;
type Cols = TensorDecl<readonly ['N']>;
type Stats = TensorDecl<readonly ['M']>;

/** LayerNorm's backward from its saved statistics: dx (plus `dres` when given), dweight, dbias. */
function backwardBody(
  t: { dx: Rows; dweight: Cols; dbias: Cols; dout: Rows; x: Rows; weight: Cols; mean: Stats; rstd: Stats },
  { M, N }: { M: Ex; N: Ex },
  dres?: Rows,
) {
  const { dx, dweight, dbias, dout, x, weight, mean, rstd } = t;
  const [m, n, k] = [loop('m', M), loop('n', N), loop('k', N)];
  const xhat = (i: typeof m, j: typeof m) => x.at(i, j).sub(mean.at(i)).mul(rstd.at(i));
  const g = (i: typeof m, j: typeof m) => dout.at(i, j).mul(weight.at(j));
  const meanG = sum([k], g(m, k)).div(N);
  const meanGX = sum([k], g(m, k).mul(xhat(m, k))).div(N);
  const [j, i] = [loop('j', N), loop('i', M)];
  const d = rstd.at(m).mul(g(m, n).sub(meanG).sub(xhat(m, n).mul(meanGX)));
  return [
    assign(dx, [m, n], dres ? dres.at(m, n).add(d) : d),
    assign(dweight, [j], sum([i], dout.at(i, j).mul(xhat(i, j)))),
    assign(dbias, [j], sum([i], dout.at(i, j))),
  ];
}

/** The backward ops' gradients out and their first input, dout. */
const backwardHead = (name: string, doc: string) =>
  op(name, doc)
    .typeVar('T', FLOATS)
    .output('dx', '$T', ['M', 'N'])
    .output('dweight', '$T', ['N'])
    .output('dbias', '$T', ['N'])
    .input('dout', '$T', ['M', 'N']);
/** Then the forward's input, weight and saved statistics. */
const backwardSaved = <T extends Record<string, TensorDecl>>(b: OpBuilder<T>) =>
  b
    .input('x', '$T', ['M', 'N'])
    .input('weight', '$T', ['N'])
    .input('mean', 'acc:$T', ['M'])
    .input('rstd', 'acc:$T', ['M'])
    .cudaHints({ threads: 256 });

export const layernorm_backward = backwardSaved(
  backwardHead(
    'layernorm_backward',
    'dx, dweight, dbias of layernorm_forward from dout and the saved mean/rstd',
  ),
).define((t, sizes) => backwardBody(t, sizes));

/** A pre-norm block's backward: the residual's gradient dres added to the norm's dx in one pass. */
export const layernorm_residual_backward = backwardSaved(
  backwardHead(
    'layernorm_residual_backward',
    'dx = dres + (dx of layernorm_backward), with its dweight and dbias',
  ).input('dres', '$T', ['M', 'N']),
).define((t, sizes) => backwardBody(t, sizes, t.dres));
