// presets.ts: named model configurations: the three official architectures of models_mae.py
// (224x224 RGB, decoder 512 wide, 8 blocks, 16 heads) and two tiny ones for 28x28 grey and 32x32
// RGB images that train in minutes.
import { type MaeConfig, parseMaeConfig } from './model.js';

const officialDecoder = {
  img_size: 224,
  in_chans: 3,
  decoder_embed_dim: 512,
  decoder_depth: 8,
  decoder_num_heads: 16,
  mlp_ratio: 4,
  norm_pix_loss: false,
  mask_ratio: 0.75,
  layer_norm_eps: 1e-6,
} as const;

const tiny = {
  patch_size: 4,
  embed_dim: 64,
  depth: 4,
  num_heads: 4,
  decoder_embed_dim: 32,
  decoder_depth: 2,
  decoder_num_heads: 4,
  mlp_ratio: 4,
  norm_pix_loss: false,
  mask_ratio: 0.75,
  layer_norm_eps: 1e-6,
} as const;

const frozen = (c: unknown): Readonly<MaeConfig> => Object.freeze(parseMaeConfig(c));

export const presets = {
  /** ViT-B/16 encoder (768 wide, 12 blocks, 12 heads). */
  mae_vit_base_patch16: frozen({
    ...officialDecoder,
    patch_size: 16,
    embed_dim: 768,
    depth: 12,
    num_heads: 12,
  }),
  /** ViT-L/16 encoder (1024 wide, 24 blocks, 16 heads). */
  mae_vit_large_patch16: frozen({
    ...officialDecoder,
    patch_size: 16,
    embed_dim: 1024,
    depth: 24,
    num_heads: 16,
  }),
  /** ViT-H/14 encoder (1280 wide, 32 blocks, 16 heads). */
  mae_vit_huge_patch14: frozen({
    ...officialDecoder,
    patch_size: 14,
    embed_dim: 1280,
    depth: 32,
    num_heads: 16,
  }),
  /** 28x28 single-channel images (MNIST-like), 7x7 patches of 4x4. */
  mae_tiny_28: frozen({ ...tiny, img_size: 28, in_chans: 1 }),
  /** 32x32 RGB images (CIFAR-like), 8x8 patches of 4x4. */
  mae_tiny_32: frozen({ ...tiny, img_size: 32, in_chans: 3 }),
  /**
   * 32x32 RGB images with the ViTs' 64-wide heads (128 wide, 2 heads; decoder 128 wide, 2 heads):
   * small enough for the CUDA emulator, and it runs the tensor-core flash attention (head size 64),
   * which the tiny presets' 16- and 8-wide heads leave to the SIMT fallback.
   */
  mae_tiny_32_h64: frozen({
    ...tiny,
    img_size: 32,
    in_chans: 3,
    embed_dim: 128,
    depth: 2,
    num_heads: 2,
    decoder_embed_dim: 128,
    decoder_depth: 1,
    decoder_num_heads: 2,
  }),
} as const satisfies Record<string, Readonly<MaeConfig>>;

export type PresetName = keyof typeof presets;

export const presetNames = Object.keys(presets) as PresetName[];

/** A copy of a preset, optionally with fields overridden and the result validated again. */
export function preset(name: PresetName, overrides: Partial<MaeConfig> = {}): MaeConfig {
  const base = presets[name];
  if (base === undefined) throw new Error(`unknown preset '${name}' (known: ${presetNames.join(', ')})`);
  return parseMaeConfig({ ...base, ...overrides });
}
