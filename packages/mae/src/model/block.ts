// block.ts: the pre-norm ViT block of timm/the official MAE, forward and backward:
//   x1 = x + proj(attn(norm1(x)))      attn: qkv with bias, scale head_dim^-0.5, softmax
//   x2 = x1 + fc2(gelu(fc1(norm2(x1))))   (the GELU's backward in fc2's dx GEMM: linear_gelu_dx_backward)
// The backward's residual adds ride in LayerNorm's backward (layernorm_residual_backward).
// With drop path (fine-tuning), each branch goes through timm's DropPath before its residual add.
// Attention is one fused flash-attention op each way (attention_forward / attention_backward): it
// reads the qkv linear's output [N, T, 3, H, E] and writes the heads merged [N, T, H, E] (the proj
// linear's input), keeping only the log-sum-exp of each score row for the backward.
import { ops, Tensor } from '@mae-cuda/native';
import {
  type DropPath,
  dropPathAdd,
  dropPathBackward,
  empty,
  type LinearParams,
  layerNormForward,
  layerNormResidualBackward,
  linearBackward,
  linearForward,
  linearGeluBackward,
  linearGeluForward,
  type NormParams,
  type NormSaved,
} from './layers.js';
import type { F32 } from './params.js';
import { accDType, type WeightSource } from './plan.js';

export interface BlockParams {
  norm1: NormParams;
  qkv: LinearParams;
  proj: LinearParams;
  norm2: NormParams;
  fc1: LinearParams;
  fc2: LinearParams;
  heads: number;
}

export function blockParams(store: WeightSource, prefix: string, heads: number, eps: number): BlockParams {
  const lin = (n: string): LinearParams => ({
    w: store.get(`${prefix}.${n}.weight`),
    b: store.get(`${prefix}.${n}.bias`),
    dw: store.grad(`${prefix}.${n}.weight`),
    db: store.grad(`${prefix}.${n}.bias`),
  });
  const norm = (n: string): NormParams => ({ ...lin(n), eps });
  return {
    norm1: norm('norm1'),
    qkv: lin('attn.qkv'),
    proj: lin('attn.proj'),
    norm2: norm('norm2'),
    fc1: lin('mlp.fc1'),
    fc2: lin('mlp.fc2'),
    heads,
  };
}

export interface BlockSaved {
  n1: NormSaved;
  h1: F32;
  /** [N, T, 3 D]: q, k, v of every head */
  qkv: F32;
  /** [N, H, T] log-sum-exp of each softmax row (the accumulation type) */
  lse: F32;
  /** [N, T, D] attention output, heads merged */
  merged: F32;
  n2: NormSaved;
  h2: F32;
  act: F32;
  pre: F32;
  /** the drop path of the attention and the MLP branch, when training with it */
  drop?: BlockDrop;
}

/** Drop path of a block's two branches (the attention's, then the MLP's). */
export interface BlockDrop {
  readonly attn: DropPath;
  readonly mlp: DropPath;
}

/** x [N, T, D] -> [N, T, D], and what the backward needs. */
export function blockForward(x: F32, p: BlockParams, drop?: BlockDrop): { y: F32; saved: BlockSaved } {
  const [N, T, D] = x.shape as [number, number, number];
  const H = p.heads;
  const E = D / H;
  const scale = E ** -0.5;
  const { y: h1, saved: n1 } = layerNormForward(x, p.norm1);
  const qkv = linearForward(h1, p.qkv);
  const merged = empty([N, T, D], x);
  // the log-sum-exp rows in the accumulation type (f32 for bf16 and f32 models, f64 in gradient checks)
  const lse = Tensor.empty(accDType(x.dtype), [N, H, T], x.device) as F32;
  ops.attention_forward(merged.view([N, T, H, E]), lse, qkv.view([N, T, 3, H, E]), scale);
  const x1 = drop
    ? dropPathAdd(x, linearForward(merged, p.proj), drop.attn)
    : linearForward(merged, p.proj, x);
  const { y: h2, saved: n2 } = layerNormForward(x1, p.norm2);
  const { out: act, pre } = linearGeluForward(h2, p.fc1);
  const y = drop ? dropPathAdd(x1, linearForward(act, p.fc2), drop.mlp) : linearForward(act, p.fc2, x1);
  return { y, saved: { n1, h1, qkv, lse, merged, n2, h2, act, pre, ...(drop ? { drop } : {}) } };
}

/** dy [N, T, D] -> dx, writing every parameter gradient of the block. */
export function blockBackward(dy: F32, s: BlockSaved, p: BlockParams): F32 {
  const [N, T, D] = dy.shape as [number, number, number];
  const H = p.heads;
  const E = D / H;
  const scale = E ** -0.5;
  // MLP branch: x2 = x1 + fc2(gelu(fc1(norm2(x1))))
  const dpre = linearGeluBackward(s.drop ? dropPathBackward(dy, s.drop.mlp) : dy, s.act, s.pre, p.fc2);
  const dh2 = linearBackward(dpre, s.h2, p.fc1);
  const dx1 = layerNormResidualBackward(dh2, dy, s.n2, p.norm2);
  // attention branch: x1 = x + proj(attn(norm1(x)))
  const dmerged = linearBackward(s.drop ? dropPathBackward(dx1, s.drop.attn) : dx1, s.merged, p.proj);
  const dqkv = empty([N, T, 3 * D], dy);
  ops.attention_backward(
    dqkv.view([N, T, 3, H, E]),
    dmerged.view([N, T, H, E]),
    s.qkv.view([N, T, 3, H, E]),
    s.merged.view([N, T, H, E]),
    s.lse,
    scale,
  );
  const dh1 = linearBackward(dqkv, s.h1, p.qkv);
  return layerNormResidualBackward(dh1, dx1, s.n1, p.norm1);
}
