// block.ts: the pre-norm ViT block of timm/the official MAE, forward and backward:
//   x1 = x + proj(attn(norm1(x)))      attn: qkv with bias, scale head_dim^-0.5, softmax
//   x2 = x1 + fc2(gelu(fc1(norm2(x1))))
// Attention is computed explicitly per (sample, head) with batched GEMMs and a row softmax.
import { ops } from '@mae-cuda/native';
import {
  add,
  empty,
  type LinearParams,
  layerNormBackward,
  layerNormForward,
  linearBackward,
  linearForward,
  linearGeluForward,
  type NormParams,
  type NormSaved,
} from './layers.js';
import type { F32 } from './params.js';
import type { WeightSource } from './plan.js';

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
  q: F32;
  k: F32;
  v: F32;
  probs: F32;
  merged: F32;
  n2: NormSaved;
  h2: F32;
  act: F32;
  pre: F32;
}

/** x [N, T, D] -> [N, T, D], and what the backward needs. */
export function blockForward(x: F32, p: BlockParams): { y: F32; saved: BlockSaved } {
  const [N, T, D] = x.shape as [number, number, number];
  const H = p.heads;
  const E = D / H;
  const scale = E ** -0.5;
  const { y: h1, saved: n1 } = layerNormForward(x, p.norm1);
  const qkv = linearForward(h1, p.qkv);
  const [q, k, v] = [empty([N * H, T, E], x), empty([N * H, T, E], x), empty([N * H, T, E], x)];
  const heads = [N, H, T, E];
  ops.qkv_split_forward(q.view(heads), k.view(heads), v.view(heads), qkv.view([N, T, 3, H, E]));
  const scores = empty([N * H, T, T], x);
  ops.matmul_nt(scores, q, k, scale);
  const probs = empty([N * H, T, T], x);
  ops.softmax_forward(probs.view([N * H * T, T]), scores.view([N * H * T, T]));
  const o = empty([N * H, T, E], x);
  ops.matmul_nn(o, probs, v, 1);
  const merged = empty([N, T, D], x);
  ops.swap12_forward(merged.view([N, T, H, E]), o.view(heads));
  const x1 = linearForward(merged, p.proj, x);
  const { y: h2, saved: n2 } = layerNormForward(x1, p.norm2);
  const { out: act, pre } = linearGeluForward(h2, p.fc1);
  const y = linearForward(act, p.fc2, x1);
  return { y, saved: { n1, h1, q, k, v, probs, merged, n2, h2, act, pre } };
}

/** dy [N, T, D] -> dx, writing every parameter gradient of the block. */
export function blockBackward(dy: F32, s: BlockSaved, p: BlockParams): F32 {
  const [N, T, D] = dy.shape as [number, number, number];
  const H = p.heads;
  const E = D / H;
  const scale = E ** -0.5;
  // MLP branch: x2 = x1 + fc2(gelu(fc1(norm2(x1))))
  const dact = linearBackward(dy, s.act, p.fc2);
  const dpre = empty(s.pre.shape, dy);
  ops.gelu_backward(dpre.view([dpre.numel]), s.pre.view([s.pre.numel]), dact.view([dact.numel]));
  const dh2 = linearBackward(dpre, s.h2, p.fc1);
  const dx1 = add(dy, layerNormBackward(dh2, s.n2, p.norm2));
  // attention branch: x1 = x + proj(attn(norm1(x)))
  const dmerged = linearBackward(dx1, s.merged, p.proj);
  const heads = [N, H, T, E];
  const dout = empty([N * H, T, E], dy);
  ops.swap12_forward(dout.view(heads), dmerged.view([N, T, H, E]));
  const dprobs = empty([N * H, T, T], dy);
  ops.matmul_nt(dprobs, dout, s.v, 1);
  const dv = empty([N * H, T, E], dy);
  ops.matmul_tn(dv, s.probs, dout, 1);
  const dscores = empty([N * H, T, T], dy);
  ops.softmax_backward(
    dscores.view([N * H * T, T]),
    s.probs.view([N * H * T, T]),
    dprobs.view([N * H * T, T]),
  );
  const dq = empty([N * H, T, E], dy);
  ops.matmul_nn(dq, dscores, s.k, scale);
  const dk = empty([N * H, T, E], dy);
  ops.matmul_tn(dk, dscores, s.q, scale);
  const dqkv = empty([N, T, 3 * D], dy);
  ops.qkv_split_backward(dqkv.view([N, T, 3, H, E]), dq.view(heads), dk.view(heads), dv.view(heads));
  const dh1 = linearBackward(dqkv, s.h1, p.qkv);
  return add(dx1, layerNormBackward(dh1, s.n1, p.norm1));
}
