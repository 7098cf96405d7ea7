// helpers.ts: what the fine-tuning tests share: a depth-2 model on 8x8 grey images (patch 4,
// 8 wide), small enough for a step to take milliseconds on the CPU.
import { parseMaeConfig } from '../../src/config/model.js';

export const depth2Config = parseMaeConfig({
  img_size: 8,
  patch_size: 4,
  in_chans: 1,
  embed_dim: 8,
  depth: 2,
  num_heads: 2,
  decoder_embed_dim: 4,
  decoder_depth: 1,
  decoder_num_heads: 1,
  mlp_ratio: 2,
  norm_pix_loss: false,
  mask_ratio: 0.75,
});
