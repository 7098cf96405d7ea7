// embed.ts: the ViT input stem the MAE and the classifier share: the images' patches (the Conv2d
// patch embedding as im2col + linear), embedded, plus the position embedding's patch rows.
import { ops } from '@mae-cuda/native';
import { gridSize, type MaeConfig, numPatches } from '../config/model.js';
import { empty, type LinearParams, linearForward } from './layers.js';
import type { F32 } from './params.js';
import type { WeightSource } from './plan.js';

/** patch_embed.proj as a linear layer over [D, C*p*p] views of the Conv2d weight. */
export function patchEmbedParams(w: WeightSource, c: MaeConfig): LinearParams {
  const view = [c.embed_dim, c.in_chans * c.patch_size * c.patch_size];
  return {
    w: w.get('patch_embed.proj.weight').view(view),
    b: w.get('patch_embed.proj.bias'),
    dw: w.grad('patch_embed.proj.weight').view(view),
    db: w.grad('patch_embed.proj.bias'),
  };
}

/**
 * Patches [N, L, C*p*p] of images x0 [N, C, H, W] (in the activations' dtype) and their embedding
 * plus the position embedding's rows 1..L (pos [1, 1 + L, D]; the embedding alone without pos).
 */
export function embedPatches(
  x0: F32,
  c: MaeConfig,
  proj: LinearParams,
  pos: F32 | undefined,
): { patches: F32; withPos: F32 } {
  const [N, C] = x0.shape as [number, number];
  const p = c.patch_size;
  const G = gridSize(c);
  const L = numPatches(c);
  const D = c.embed_dim;
  const patches = empty([N, L, C * p * p], x0);
  ops.patch_im2col_forward(patches.view([N, G, G, C, p, p]), x0.view([N, C, G, p, G, p]));
  const emb = linearForward(patches, proj);
  if (!pos) return { patches, withPos: emb };
  const withPos = empty([N, L, D], x0);
  ops.add_rows_forward(withPos, emb, pos.view([L, D], D));
  return { patches, withPos };
}
