// model.ts: the MAE model configuration (the constructor arguments of the official
// models_mae.MaskedAutoencoderViT plus mask_ratio and the LayerNorm eps), its zod schema with
// readable refinement messages, and the derived sizes (grid, patches, kept patches, MLP width).
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/**
 * Patches kept by masking, exactly python's `int(L * (1 - mask_ratio))`: the same two IEEE double
 * operations in the same order, then truncation toward zero (L=196, 0.75 -> 49; L=10, 0.9 -> 0
 * because 1 - 0.9 = 0.09999999999999998 in doubles, as in python).
 */
export function lenKeepFor(L: number, maskRatio: number): number {
  return Math.trunc(L * (1 - maskRatio));
}

export const MaeConfigSchema = z
  .strictObject({
    img_size: positiveInt,
    patch_size: positiveInt,
    in_chans: positiveInt,
    embed_dim: positiveInt,
    depth: positiveInt,
    num_heads: positiveInt,
    decoder_embed_dim: positiveInt,
    decoder_depth: positiveInt,
    decoder_num_heads: positiveInt,
    mlp_ratio: z.number().positive(),
    norm_pix_loss: z.boolean(),
    mask_ratio: z
      .number()
      .min(0)
      .lt(1, { message: 'mask_ratio must be below 1 (at least one patch is kept)' }),
    layer_norm_eps: z.number().positive().default(1e-6),
    /**
     * Table 1c's ablation: the encoder runs on all L patches, the removed ones replaced by a
     * learned encoder_mask_token (absent: the official model, which skips them)
     */
    encoder_mask_token: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.img_size % c.patch_size !== 0) {
      issue('patch_size', `img_size ${c.img_size} is not divisible by patch_size ${c.patch_size}`);
    }
    if (c.embed_dim % c.num_heads !== 0) {
      issue('num_heads', `embed_dim ${c.embed_dim} is not divisible by num_heads ${c.num_heads}`);
    }
    if (c.decoder_embed_dim % c.decoder_num_heads !== 0) {
      issue(
        'decoder_num_heads',
        `decoder_embed_dim ${c.decoder_embed_dim} is not divisible by decoder_num_heads ${c.decoder_num_heads}`,
      );
    }
    if (c.embed_dim % 4 !== 0) {
      issue(
        'embed_dim',
        `embed_dim ${c.embed_dim} must be divisible by 4 for the 2-D sin-cos position embedding`,
      );
    }
    if (c.decoder_embed_dim % 4 !== 0) {
      issue(
        'decoder_embed_dim',
        `decoder_embed_dim ${c.decoder_embed_dim} must be divisible by 4 for the 2-D sin-cos position embedding`,
      );
    }
    if (Math.trunc(c.embed_dim * c.mlp_ratio) < 1 || Math.trunc(c.decoder_embed_dim * c.mlp_ratio) < 1) {
      issue('mlp_ratio', `mlp_ratio ${c.mlp_ratio} gives an empty MLP hidden layer`);
    }
    if (c.img_size % c.patch_size === 0) {
      const L = (c.img_size / c.patch_size) ** 2;
      const keep = lenKeepFor(L, c.mask_ratio);
      if (keep < 1) {
        issue(
          'mask_ratio',
          `mask_ratio ${c.mask_ratio} keeps int(${L} * (1 - ${c.mask_ratio})) = ${keep} patches`,
        );
      }
    }
  });

/** A validated model configuration (snake_case keys, as in the official code and config.json). */
export type MaeConfig = z.infer<typeof MaeConfigSchema>;
/** What the schema accepts (layer_norm_eps may be left out). */
export type MaeConfigInput = z.input<typeof MaeConfigSchema>;

/** Validates (and fills defaults of) a model configuration; throws a ZodError with clear messages. */
export function parseMaeConfig(value: unknown): MaeConfig {
  return MaeConfigSchema.parse(value);
}

/** Patches per side, img_size / patch_size. */
export function gridSize(c: MaeConfig): number {
  return c.img_size / c.patch_size;
}

/** L, the number of patches (grid_size ** 2). */
export function numPatches(c: MaeConfig): number {
  return gridSize(c) ** 2;
}

/** Tokens the encoder runs on besides the cls token: the kept patches, or all L with mask tokens. */
export function encoderTokens(c: MaeConfig): number {
  return c.encoder_mask_token ? numPatches(c) : lenKeep(c);
}

/** Patches kept by masking for this configuration, `int(L * (1 - mask_ratio))`. */
export function lenKeep(c: MaeConfig): number {
  return lenKeepFor(numPatches(c), c.mask_ratio);
}

/** The MLP hidden width of a block of width `dim`, timm's `int(dim * mlp_ratio)`. */
export function mlpHidden(c: Pick<MaeConfig, 'mlp_ratio'>, dim: number): number {
  return Math.trunc(dim * c.mlp_ratio);
}

/** Values per patch, p * p * C (the decoder_pred output width; channel innermost). */
export function patchDim(c: MaeConfig): number {
  return c.patch_size * c.patch_size * c.in_chans;
}
