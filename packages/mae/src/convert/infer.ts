// infer.ts: a model configuration from a state_dict's names and shapes (an official .pth has no
// configuration): widths, depths, patch and image size, MLP ratio from the tensors; the head counts,
// which no shape records, from the preset of the same width (ViT-B 12, L and H 16, the official
// decoder 16, the tiny ones 4), else 64-wide heads. An encoder-only state_dict (the released
// mae_pretrain_vit_*.pth, a classifier) gets the decoder of such a preset: it is not used.
import { type MaeConfig, parseMaeConfig } from '../config/model.js';
import { presets } from '../config/presets.js';
import type { Shaped } from '../io/state_dict.js';

export class InferError extends Error {}

const HEAD_WIDTH = 64;

/** Heads for a width: a preset's, else width / 64. */
function headsFor(width: number, what: string): number {
  for (const p of Object.values(presets)) {
    if (p.embed_dim === width) return p.num_heads;
    if (p.decoder_embed_dim === width) return p.decoder_num_heads;
  }
  if (width % HEAD_WIDTH === 0) return width / HEAD_WIDTH;
  throw new InferError(`cannot tell the ${what} heads of a ${width}-wide model (give the configuration)`);
}

/** The decoder settings an encoder-only model is given: a preset's of the same width, else ViT-B's. */
export function decoderFor(
  embedDim: number,
): Pick<MaeConfig, 'decoder_embed_dim' | 'decoder_depth' | 'decoder_num_heads'> {
  const p = Object.values(presets).find((q) => q.embed_dim === embedDim) ?? presets.mae_vit_base_patch16;
  return {
    decoder_embed_dim: p.decoder_embed_dim,
    decoder_depth: p.decoder_depth,
    decoder_num_heads: p.decoder_num_heads,
  };
}

/** Blocks of a stack: how many `<prefix>.N.norm1.weight` there are. */
function depthOf(names: string[], prefix: string): number {
  return names.filter((n) => new RegExp(`^${prefix}\\.\\d+\\.norm1\\.weight$`).test(n)).length;
}

export interface Inferred {
  model: MaeConfig;
  /** no decoder tensors: its configuration is a placeholder */
  encoderOnly: boolean;
}

/** The configuration of a state_dict with the official names; `over` overrides what cannot be seen. */
export function inferMaeConfig(state: ReadonlyMap<string, Shaped>, over: Partial<MaeConfig> = {}): Inferred {
  const shape = (name: string): readonly number[] => {
    const t = state.get(name);
    if (!t) throw new InferError(`no ${name}: not an MAE or ViT state_dict with the official names`);
    return t.shape;
  };
  const names = [...state.keys()];
  const [D, C, p] = shape('patch_embed.proj.weight') as [number, number, number];
  const L = shape('pos_embed')[1]! - 1;
  const grid = Math.round(Math.sqrt(L));
  if (grid * grid !== L)
    throw new InferError(`pos_embed holds ${L} patches, not a square grid (+ the cls token)`);
  const depth = depthOf(names, 'blocks');
  if (depth === 0) throw new InferError('no blocks.N: not an MAE or ViT state_dict with the official names');
  const hidden = shape('blocks.0.mlp.fc1.weight')[0]!;
  const encoderOnly = !state.has('decoder_embed.weight');
  const decoder = encoderOnly
    ? decoderFor(D)
    : {
        decoder_embed_dim: shape('decoder_embed.weight')[0]!,
        decoder_depth: depthOf(names, 'decoder_blocks'),
        decoder_num_heads: headsFor(shape('decoder_embed.weight')[0]!, 'decoder'),
      };
  const model = parseMaeConfig({
    img_size: grid * p,
    patch_size: p,
    in_chans: C,
    embed_dim: D,
    depth,
    num_heads: headsFor(D, 'encoder'),
    ...decoder,
    mlp_ratio: hidden / D,
    norm_pix_loss: false,
    mask_ratio: 0.75,
    layer_norm_eps: 1e-6,
    ...over,
  });
  return { model, encoderOnly };
}
