// gemm.ts: batched C = op(A) op(B) with fp32 accumulation in the four transpose combinations, and
// the linear layer y = x W^T + b with its fused epilogues (bias, bias + GELU saving the
// pre-activation, bias + residual). The backward of C = A B is dA = dC B^T (matmul_nt) and
// dB = A^T dC (matmul_tn); of y = x W^T it is dx = dy W (matmul_nn) and dW = dy^T x (matmul_tn);
// of y = gelu(pre) W^T (an MLP's second layer) the pre-activation's gradient is
// (dy W) gelu'(pre), the GELU's backward in the dx GEMM's epilogue (linear_gelu_dx_backward).
import { type Ex, loop, sum } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { dgelu, FLOATS, gelu } from './elementwise.js';

function matmul(ta: boolean, tb: boolean) {
  const name = `matmul_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`;
  const aDims = ta ? (['BT', 'K', 'M'] as const) : (['BT', 'M', 'K'] as const);
  const bDims = tb ? (['BT', 'N', 'K'] as const) : (['BT', 'K', 'N'] as const);
  return op(
    name,
    `out[bt] = alpha ${ta ? 'a[bt]^T' : 'a[bt]'} ${tb ? 'b[bt]^T' : 'b[bt]'} (fp32 accumulation)`,
  )
    .typeVar('T', FLOATS)
    .output('out', '$T', ['BT', 'M', 'N'])
    .input('a', '$T', aDims)
    .input('b', '$T', bDims)
    .param('alpha', 'scales the product (e.g. the attention scale)')
    .define(({ out, a, b }, { BT, M, N, K }, { alpha }) => {
      const [bt, m, n, k] = [loop('bt', BT), loop('m', M), loop('n', N), loop('k', K)];
      const av = ta ? a.at(bt, k, m) : a.at(bt, m, k);
      const bv = tb ? b.at(bt, n, k) : b.at(bt, k, n);
      return assign(out, [bt, m, n], sum([k], av.mul(bv)).mul(alpha));
    });
}

export const matmul_nn = matmul(false, false);
export const matmul_nt = matmul(false, true);
export const matmul_tn = matmul(true, false);
export const matmul_tt = matmul(true, true);

/** x [M, K] times weight [N, K] transposed: the contraction of a linear layer. */
const linearAcc = (x: { at(m: Ex, k: Ex): Ex }, w: { at(n: Ex, k: Ex): Ex }, m: Ex, n: Ex, K: Ex) => {
  const k = loop('k', K);
  return sum([k], x.at(m, k).mul(w.at(n, k)));
};

export const linear_forward = op(
  'linear_forward',
  'out = x weight^T + bias (bias fused in the GEMM epilogue)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .input('x', '$T', ['M', 'K'])
  .input('weight', '$T', ['N', 'K'])
  .input('bias', '$T', ['N'])
  .define(({ out, x, weight, bias }, { M, N, K }) => {
    const [m, n] = [loop('m', M), loop('n', N)];
    return assign(out, [m, n], linearAcc(x, weight, m, n, K).add(bias.at(n)));
  });

export const linear_gelu_forward = op(
  'linear_gelu_forward',
  'pre = x weight^T + bias; out = gelu(pre) (both in the GEMM epilogue; pre kept for the backward)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .output('pre', '$T', ['M', 'N'])
  .input('x', '$T', ['M', 'K'])
  .input('weight', '$T', ['N', 'K'])
  .input('bias', '$T', ['N'])
  .define(({ out, pre, x, weight, bias }, { M, N, K }) => {
    const [m, n] = [loop('m', M), loop('n', N)];
    return [
      assign(pre, [m, n], linearAcc(x, weight, m, n, K).add(bias.at(n))),
      assign(out, [m, n], gelu(pre.at(m, n))),
    ];
  });

export const linear_residual_forward = op(
  'linear_residual_forward',
  'out = residual + x weight^T + bias (residual add fused in the GEMM epilogue)',
)
  .typeVar('T', FLOATS)
  .output('out', '$T', ['M', 'N'])
  .input('x', '$T', ['M', 'K'])
  .input('weight', '$T', ['N', 'K'])
  .input('bias', '$T', ['N'])
  .input('residual', '$T', ['M', 'N'])
  .define(({ out, x, weight, bias, residual }, { M, N, K }) => {
    const [m, n] = [loop('m', M), loop('n', N)];
    return assign(out, [m, n], residual.at(m, n).add(linearAcc(x, weight, m, n, K).add(bias.at(n))));
  });

/**
 * The input gradient of a linear layer whose input is gelu(pre), through the GELU: dpre = (dy
 * weight) gelu'(pre), weight [K, N] (K outputs, N inputs). One GEMM with gelu_backward in its
 * epilogue, in place of matmul_nn then gelu_backward (the product is never stored).
 */
export const linear_gelu_dx_backward = op(
  'linear_gelu_dx_backward',
  "dpre = (dy weight) * gelu'(pre): a linear layer's dx through the GELU before it (in the GEMM epilogue)",
)
  .typeVar('T', FLOATS)
  .output('dpre', '$T', ['M', 'N'])
  .input('dy', '$T', ['M', 'K'])
  .input('weight', '$T', ['K', 'N'])
  .input('pre', '$T', ['M', 'N'])
  .define(({ dpre, dy, weight, pre }, { M, N, K }) => {
    const [m, n, k] = [loop('m', M), loop('n', N), loop('k', K)];
    return assign(dpre, [m, n], sum([k], dy.at(m, k).mul(weight.at(k, n))).mul(dgelu(pre.at(m, n))));
  });
