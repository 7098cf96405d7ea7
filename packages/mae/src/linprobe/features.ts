// features.ts: the frozen encoder's features for the linear probe, as models_vit's forward_features:
// the cls token's row after the final norm, or with global pooling the mean of the patch tokens'
// rows before it, through a fresh fc_norm (LayerNorm, eps 1e-6, weight 1, bias 0: main_linprobe.py
// loads a pretraining checkpoint, which has no fc_norm, and drops the final norm).
import { Tensor } from '@mae-cuda/native';
import type { MaskedAutoencoder } from '../model/mae.js';

export const FC_NORM_EPS = 1e-6;

export type ProbePool = 'cls' | 'global';

/** Features [B, D] of images [B, C, S, S] (on the images' device). */
export async function probeFeatures(
  model: MaskedAutoencoder,
  imgs: Tensor<'f32'>,
  pool: ProbePool,
): Promise<Tensor<'f32'>> {
  const D = model.config.embed_dim;
  const B = imgs.shape[0]!;
  const tokens = await model.encode(imgs, pool === 'cls').toFloat32Array();
  const T = tokens.length / (B * D);
  const out = new Float32Array(B * D);
  const row = new Float64Array(D);
  for (let n = 0; n < B; n++) {
    if (pool === 'cls') {
      out.set(tokens.subarray(n * T * D, n * T * D + D), n * D);
      continue;
    }
    row.fill(0);
    for (let t = 1; t < T; t++) for (let j = 0; j < D; j++) row[j]! += tokens[(n * T + t) * D + j]!;
    let mean = 0;
    for (let j = 0; j < D; j++) mean += row[j]! /= T - 1;
    mean /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (row[j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / D + FC_NORM_EPS);
    for (let j = 0; j < D; j++) out[n * D + j] = (row[j]! - mean) * rstd;
  }
  return Tensor.fromArray('f32', [B, D], out, imgs.device);
}
