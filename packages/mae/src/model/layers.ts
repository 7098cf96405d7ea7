// layers.ts: the layer-level forward/backward pairs the model is made of, each a few generated
// ops over row-major views: linear (y = x W^T + b, optionally fused with GELU or a residual add)
// and LayerNorm. Backwards write the parameter gradients (overwrite) and return the input's.
import { ops, Tensor } from '@mae-cuda/native';
import type { F32 } from './params.js';
import { accDType } from './plan.js';

/** An uninitialised tensor of like's dtype (f32, or f64 in gradient checks) and device. */
export const empty = (shape: readonly number[], like: F32): F32 =>
  Tensor.empty(like.dtype, shape, like.device);
const rows = (t: F32) => t.numel / t.shape[t.shape.length - 1]!;
const as2d = (t: F32, cols: number) => t.view([t.numel / cols, cols]);
const as3d = (t: F32, cols: number) => t.view([1, t.numel / cols, cols]);

export interface LinearParams {
  readonly w: F32; // [out, in]
  readonly b: F32; // [out]
  readonly dw: F32;
  readonly db: F32;
}

/** y = x W^T + b (+ residual), over the last axis of x. */
export function linearForward(x: F32, p: LinearParams, residual?: F32): F32 {
  const [out, inp] = [p.w.shape[0]!, p.w.shape[1]!];
  const shape = [...x.shape.slice(0, -1), out];
  const y = empty(shape, x);
  if (residual) ops.linear_residual_forward(as2d(y, out), as2d(x, inp), p.w, p.b, as2d(residual, out));
  else ops.linear_forward(as2d(y, out), as2d(x, inp), p.w, p.b);
  return y;
}

/** out = gelu(pre), pre = x W^T + b; returns both (pre is what the backward needs). */
export function linearGeluForward(x: F32, p: LinearParams): { out: F32; pre: F32 } {
  const [out, inp] = [p.w.shape[0]!, p.w.shape[1]!];
  const shape = [...x.shape.slice(0, -1), out];
  const y = empty(shape, x);
  const pre = empty(shape, x);
  ops.linear_gelu_forward(as2d(y, out), as2d(pre, out), as2d(x, inp), p.w, p.b);
  return { out: y, pre };
}

/** Given dy, writes dW = dy^T x and db = sum_rows dy (the input's gradient is not needed). */
export function linearBackwardParams(dy: F32, x: F32, p: LinearParams): void {
  const [out, inp] = [p.w.shape[0]!, p.w.shape[1]!];
  ops.matmul_tn(p.dw.view([1, out, inp]), as3d(dy, out), as3d(x, inp), 1);
  ops.sum_forward(p.db, as2d(dy, out), 0);
}

/** Given dy, writes dW and db; returns dx = dy W. */
export function linearBackward(dy: F32, x: F32, p: LinearParams): F32 {
  const [out, inp] = [p.w.shape[0]!, p.w.shape[1]!];
  linearBackwardParams(dy, x, p);
  const dx = empty(x.shape, x);
  ops.matmul_nn(as3d(dx, inp), as3d(dy, out), p.w.view([1, out, inp]), 1);
  return dx;
}

/**
 * Given dy of a linear layer whose input was gelu(pre) (an MLP's second layer), writes dW and db;
 * returns dpre = (dy W) gelu'(pre), the GELU's backward fused into the dx GEMM.
 */
export function linearGeluBackward(dy: F32, x: F32, pre: F32, p: LinearParams): F32 {
  const [out, inp] = [p.w.shape[0]!, p.w.shape[1]!];
  linearBackwardParams(dy, x, p);
  const dpre = empty(pre.shape, pre);
  ops.linear_gelu_dx_backward(as2d(dpre, inp), as2d(dy, out), p.w, as2d(pre, inp));
  return dpre;
}

export interface NormParams {
  readonly w: F32;
  readonly b: F32;
  readonly dw: F32;
  readonly db: F32;
  readonly eps: number;
}
export interface NormSaved {
  readonly x: F32;
  readonly mean: F32;
  readonly rstd: F32;
}

export function layerNormForward(x: F32, p: NormParams): { y: F32; saved: NormSaved } {
  const D = p.w.shape[0]!;
  const y = empty(x.shape, x);
  // the statistics are f32 for bf16 tensors (the op's accumulator dtype)
  const mean = Tensor.empty(accDType(x.dtype), [rows(x)], x.device) as F32;
  const rstd = Tensor.empty(accDType(x.dtype), [rows(x)], x.device) as F32;
  ops.layernorm_forward(as2d(y, D), mean, rstd, as2d(x, D), p.w, p.b, p.eps);
  return { y, saved: { x, mean, rstd } };
}

/** Writes dweight, dbias; returns dx. */
export function layerNormBackward(dy: F32, s: NormSaved, p: NormParams): F32 {
  const D = p.w.shape[0]!;
  const dx = empty(s.x.shape, s.x);
  ops.layernorm_backward(as2d(dx, D), p.dw, p.db, as2d(dy, D), as2d(s.x, D), p.w, s.mean, s.rstd);
  return dx;
}

/** dres + the norm's dx in one pass (a pre-norm block's residual meeting its branch); writes dweight, dbias. */
export function layerNormResidualBackward(dy: F32, dres: F32, s: NormSaved, p: NormParams): F32 {
  const D = p.w.shape[0]!;
  const dx = empty(s.x.shape, s.x);
  ops.layernorm_residual_backward(
    as2d(dx, D),
    p.dw,
    p.db,
    as2d(dy, D),
    as2d(dres, D),
    as2d(s.x, D),
    p.w,
    s.mean,
    s.rstd,
  );
  return dx;
}

/** Drop path on one residual branch: each sample's uniform u [N] and the keep probability. */
export interface DropPath {
  readonly u: F32;
  readonly keep: number;
}

/** residual + branch with timm's DropPath on the branch (per sample, over the first axis). */
export function dropPathAdd(residual: F32, branch: F32, d: DropPath): F32 {
  const N = residual.shape[0]!;
  const out = empty(residual.shape, residual);
  ops.drop_path_forward(
    out.view([N, out.numel / N]),
    residual.view([N, out.numel / N]),
    branch.view([N, out.numel / N]),
    d.u,
    d.keep,
  );
  return out;
}

/** The branch's gradient through the drop path (the residual's is dout itself). */
export function dropPathBackward(dout: F32, d: DropPath): F32 {
  const N = dout.shape[0]!;
  const out = empty(dout.shape, dout);
  ops.drop_path_backward(out.view([N, out.numel / N]), dout.view([N, out.numel / N]), d.u, d.keep);
  return out;
}

/** a + b elementwise (gradients meeting at a residual connection). */
export function add(a: F32, b: F32): F32 {
  const out = empty(a.shape, a);
  ops.residual_forward(out.view([a.numel]), a.view([a.numel]), b.view([b.numel]));
  return out;
}
