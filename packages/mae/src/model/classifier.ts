// classifier.ts: the official fine-tuning model, models_vit.VisionTransformer, forward and backward
// on any backend the ops run on: the patch embedding, the cls token and the position embedding
// (trainable here, unlike in pretraining), the encoder's blocks on every patch (drop path while
// training), the pooled features (the cls token's row through `norm`, or the patch tokens' mean
// through `fc_norm`: the global pool), then the linear `head`. The backward can stop above a block
// (partial fine-tuning: the frozen blocks below it get no gradient).
import { ops } from '@mae-cuda/native';
import { type MaeConfig, numPatches } from '../config/model.js';
import {
  type BlockDrop,
  type BlockParams,
  type BlockSaved,
  blockBackward,
  blockForward,
  blockParams,
} from './block.js';
import { embedPatches, patchEmbedParams } from './embed.js';
import {
  empty,
  type LinearParams,
  layerNormBackward,
  layerNormForward,
  linearBackward,
  linearBackwardParams,
  linearForward,
  type NormParams,
  type NormSaved,
} from './layers.js';
import type { F32, ParamStore } from './params.js';

/** The features the head reads: the cls token, or the global pool of the patch tokens. */
export type Pool = 'cls' | 'global';

/** The final norm's name: models_vit replaces `norm` by `fc_norm` with the global pool. */
export const poolNorm = (pool: Pool): 'norm' | 'fc_norm' => (pool === 'global' ? 'fc_norm' : 'norm');

/** Drop path while training: u [2 depth, N] uniforms (row 2i block i's attention, 2i+1 its MLP). */
export interface DropPathDraw {
  u: F32;
  /** each block's drop probability (timm: linspace(0, drop_path, depth)) */
  rates: readonly number[];
}

interface Saved {
  patches: F32;
  blocks: BlockSaved[];
  norm: NormSaved;
  feat: F32;
}

export class VitClassifier {
  private readonly blocks: BlockParams[];
  private readonly norm: NormParams;
  private readonly head: LinearParams;
  private readonly patchEmbed: LinearParams;
  private saved?: Saved;

  constructor(
    readonly config: MaeConfig,
    readonly classes: number,
    readonly pool: Pool,
    readonly params: ParamStore,
  ) {
    const c = config;
    const eps = c.layer_norm_eps;
    const lin = (n: string): LinearParams => ({
      w: params.get(`${n}.weight`),
      b: params.get(`${n}.bias`),
      dw: params.grad(`${n}.weight`),
      db: params.grad(`${n}.bias`),
    });
    this.blocks = Array.from({ length: c.depth }, (_, i) =>
      blockParams(params, `blocks.${i}`, c.num_heads, eps),
    );
    this.norm = { ...lin(poolNorm(pool)), eps };
    this.head = lin('head');
    this.patchEmbed = patchEmbedParams(params, c);
  }

  /** Logits [N, K] of images [N, C, H, W]; keeps what the backward needs. */
  forward(imgs: F32, drop?: DropPathDraw): F32 {
    const c = this.config;
    const [N, C, H, W] = imgs.shape;
    if (imgs.shape.length !== 4 || C !== c.in_chans || H !== c.img_size || W !== c.img_size)
      throw new TypeError(
        `imgs must be [N, ${c.in_chans}, ${c.img_size}, ${c.img_size}] for this model, got [${imgs.shape.join(', ')}]`,
      );
    if (imgs.dtype !== this.params.dtype)
      throw new TypeError(`imgs are ${imgs.dtype} but the model's parameters are ${this.params.dtype}`);
    const D = c.embed_dim;
    const pos = this.params.get('pos_embed');
    const { patches, withPos } = embedPatches(imgs, c, this.patchEmbed, pos);
    let x = empty([N!, numPatches(c) + 1, D], imgs);
    ops.prepend_token_forward(x, withPos, this.params.get('cls_token').view([D]), pos.view([D], 0));
    const blocks: BlockSaved[] = [];
    this.blocks.forEach((bp, i) => {
      const r = blockForward(x, bp, blockDrop(drop, i, N!));
      blocks.push(r.saved);
      x = r.y;
    });
    const pooled = empty([N!, D], imgs);
    ops.token_pool_forward(pooled, x, this.pool === 'cls' ? 1 : 0);
    const { y: feat, saved: norm } = layerNormForward(pooled, this.norm);
    this.saved = { patches, blocks, norm, feat };
    return linearForward(feat, this.head);
  }

  /**
   * Backward of the last forward for dlogits [N, K]: writes the gradients of the head, the final
   * norm and blocks firstBlock.. (and of the stem, patch embedding, cls token and position
   * embedding, when firstBlock is 0); other gradients are left as they are.
   */
  backward(dlogits: F32, firstBlock = 0): void {
    const s = this.saved;
    if (!s) throw new Error('backward() needs a forward() first');
    const c = this.config;
    const [N, D, T] = [dlogits.shape[0]!, c.embed_dim, numPatches(c) + 1];
    const dpooled = layerNormBackward(linearBackward(dlogits, s.feat, this.head), s.norm, this.norm);
    let dx = empty([N, T, D], dpooled);
    ops.token_pool_backward(dx, dpooled, this.pool === 'cls' ? 1 : 0);
    for (let i = this.blocks.length - 1; i >= firstBlock; i--)
      dx = blockBackward(dx, s.blocks[i]!, this.blocks[i]!);
    if (firstBlock > 0) return;
    // cls_token + pos_embed[0] and patches + pos_embed[1:]: the position embedding's gradient is
    // dx summed over the batch, the cls token's its first row's
    ops.sum_forward(this.params.grad('pos_embed').view([T * D]), dx.view([N, T * D]), 0);
    const dpatches = empty([N, T - 1, D], dx);
    ops.prepend_token_backward(dpatches, this.params.grad('cls_token').view([D]), dx);
    linearBackwardParams(dpatches, s.patches, this.patchEmbed);
  }
}

/** Block i's drop path from the draw (none for a rate of 0, as timm's DropPath). */
function blockDrop(drop: DropPathDraw | undefined, i: number, N: number): BlockDrop | undefined {
  const rate = drop?.rates[i] ?? 0;
  if (!drop || rate === 0) return undefined;
  const keep = 1 - rate;
  return {
    attn: { u: drop.u.view([N], 2 * i * N), keep },
    mlp: { u: drop.u.view([N], (2 * i + 1) * N), keep },
  };
}

/** timm's stochastic depth rates, torch.linspace(0, rate, depth) as its float32 kernel computes them. */
export function dropPathRates(rate: number, depth: number): number[] {
  if (depth === 1) return [0];
  const f = Math.fround;
  const [end, step] = [f(rate), f(f(rate) / (depth - 1))];
  const half = Math.floor(depth / 2);
  return Array.from({ length: depth }, (_, i) =>
    i < half ? f(step * i) : f(end - f(step * (depth - 1 - i))),
  );
}
