// Finite-difference gradient checks in f64 for every backward op: for a forward f and a random
// upstream gradient g, the backward's result must equal d(sum(g * f))/d(input) by central
// differences, all kernels being the generated CPU f64 ones.
import * as ops from '../../generated/ops.js';
import { assertGrad, dot, empty, f64Maker, numericGrad } from './finite_diff.js';

const t64 = f64Maker(4242);

describe('finite-difference gradient checks (f64, CPU)', () => {
  it('gelu_backward', () => {
    const x = t64([37], -3, 3);
    const g = t64([37]);
    const y = empty([37]);
    const dx = empty([37]);
    ops.gelu_backward(dx, x, g);
    assertGrad(
      'dx',
      dx,
      numericGrad(x, () => {
        ops.gelu_forward(y, x);
        return dot(g, y);
      }),
    );
  });

  it('softmax_backward', () => {
    const [M, N] = [3, 7];
    const x = t64([M, N], -2, 2);
    const g = t64([M, N]);
    const y = empty([M, N]);
    const dx = empty([M, N]);
    ops.softmax_forward(y, x);
    ops.softmax_backward(dx, y, g);
    assertGrad(
      'dx',
      dx,
      numericGrad(x, () => {
        ops.softmax_forward(y, x);
        return dot(g, y);
      }),
    );
  });

  it('layernorm_backward', () => {
    const [M, N] = [4, 9];
    const x = t64([M, N], -2, 2);
    const w = t64([N]);
    const b = t64([N]);
    const g = t64([M, N]);
    const [y, mean, rstd] = [empty([M, N]), empty([M]), empty([M])];
    const fwd = () => {
      ops.layernorm_forward(y, mean, rstd, x, w, b, 1e-5);
      return dot(g, y);
    };
    fwd();
    const [dx, dw, db] = [empty([M, N]), empty([N]), empty([N])];
    ops.layernorm_backward(dx, dw, db, g, x, w, mean, rstd);
    assertGrad('dx', dx, numericGrad(x, fwd));
    assertGrad('dweight', dw, numericGrad(w, fwd));
    assertGrad('dbias', db, numericGrad(b, fwd));
  });

  it("layernorm_residual_backward: dx = dres + the norm's dx", () => {
    const [M, N] = [3, 7];
    const x = t64([M, N], -2, 2);
    const [w, b, g, r] = [t64([N]), t64([N]), t64([M, N]), t64([M, N])];
    const [y, mean, rstd] = [empty([M, N]), empty([M]), empty([M])];
    // F(x) = <g, norm(x)> + <r, x>: the residual's gradient r meets the norm's
    const fwd = () => {
      ops.layernorm_forward(y, mean, rstd, x, w, b, 1e-5);
      return dot(g, y) + dot(r, x);
    };
    fwd();
    const [dx, dw, db] = [empty([M, N]), empty([N]), empty([N])];
    ops.layernorm_residual_backward(dx, dw, db, g, r, x, w, mean, rstd);
    assertGrad('dx', dx, numericGrad(x, fwd));
    assertGrad('dweight', dw, numericGrad(w, fwd));
    assertGrad('dbias', db, numericGrad(b, fwd));
  });

  it('matmul backward: dA = dC B^T (matmul_nt), dB = A^T dC (matmul_tn)', () => {
    const [BT, M, N, K] = [2, 3, 5, 4];
    const a = t64([BT, M, K]);
    const b = t64([BT, K, N]);
    const g = t64([BT, M, N]);
    const c = empty([BT, M, N]);
    const fwd = () => {
      ops.matmul_nn(c, a, b, 1);
      return dot(g, c);
    };
    const [da, db] = [empty([BT, M, K]), empty([BT, K, N])];
    ops.matmul_nt(da, g, b, 1);
    ops.matmul_tn(db, a, g, 1);
    assertGrad('dA', da, numericGrad(a, fwd));
    assertGrad('dB', db, numericGrad(b, fwd));
  });

  it('matmul_tt backward: dA = B^T dC^T (matmul_tt), dB = dC^T A^T (matmul_tt)', () => {
    const [BT, M, N, K] = [1, 4, 3, 5];
    const a = t64([BT, K, M]);
    const b = t64([BT, N, K]);
    const g = t64([BT, M, N]);
    const c = empty([BT, M, N]);
    const fwd = () => {
      ops.matmul_tt(c, a, b, 1);
      return dot(g, c);
    };
    // C = A^T B^T: dA[k, m] = sum_n B[n, k] dC[m, n] = (B^T dC^T)[k, m]; dB[n, k] = (dC^T A^T)[n, k]
    const [da, db] = [empty([BT, K, M]), empty([BT, N, K])];
    ops.matmul_tt(da, b, g, 1);
    ops.matmul_tt(db, g, a, 1);
    assertGrad('dA', da, numericGrad(a, fwd));
    assertGrad('dB', db, numericGrad(b, fwd));
  });

  it('linear_gelu_forward backward through gelu_backward, matmul_nn, matmul_tn and sum_forward', () => {
    const [M, N, K] = [5, 4, 6];
    const x = t64([M, K]);
    const w = t64([N, K]);
    const bias = t64([N]);
    const g = t64([M, N]);
    const [y, pre] = [empty([M, N]), empty([M, N])];
    const fwd = () => {
      ops.linear_gelu_forward(y, pre, x, w, bias);
      return dot(g, y);
    };
    fwd();
    const dpre = empty([M, N]);
    ops.gelu_backward(dpre.view([M * N]), pre.view([M * N]), g.view([M * N]));
    const [dx, dw, db] = [empty([1, M, K]), empty([1, N, K]), empty([N])];
    ops.matmul_nn(dx, dpre.view([1, M, N]), w.view([1, N, K]), 1);
    ops.matmul_tn(dw, dpre.view([1, M, N]), x.view([1, M, K]), 1);
    ops.sum_forward(db, dpre, 0);
    assertGrad('dx', dx, numericGrad(x, fwd));
    assertGrad('dweight', dw, numericGrad(w, fwd));
    assertGrad('dbias', db, numericGrad(bias, fwd));
  });

  it("linear_gelu_dx_backward: an MLP's second layer, dpre through its GELU input", () => {
    // y = gelu(pre) w^T + b (w [K, N]): d(sum(g * y))/d pre = (g w) gelu'(pre), in one fused GEMM
    const [M, N, K] = [5, 7, 3];
    const [pre, w, bias, g] = [t64([M, N], -3, 3), t64([K, N]), t64([K]), t64([M, K])];
    const [act, y] = [empty([M, N]), empty([M, K])];
    const fwd = () => {
      ops.gelu_forward(act.view([M * N]), pre.view([M * N]));
      ops.linear_forward(y, act, w, bias);
      return dot(g, y);
    };
    const dpre = empty([M, N]);
    ops.linear_gelu_dx_backward(dpre, g, w, pre);
    assertGrad('dpre', dpre, numericGrad(pre, fwd));
  });

  it('linear_residual_forward: the residual passes the gradient through', () => {
    const [M, N, K] = [3, 4, 2];
    const [x, w, bias, r, g] = [t64([M, K]), t64([N, K]), t64([N]), t64([M, N]), t64([M, N])];
    const y = empty([M, N]);
    const fwd = () => {
      ops.linear_residual_forward(y, x, w, bias, r);
      return dot(g, y);
    };
    assertGrad('dresidual', g, numericGrad(r, fwd));
  });
});
