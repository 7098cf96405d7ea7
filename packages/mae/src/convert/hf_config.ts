// hf_config.ts: our model configuration as a Hugging Face config.json (ViTMAEConfig for
// ViTMAEForPreTraining, ViTConfig for ViTForImageClassification) and back. The LayerNorm eps is the
// config's (facebook/vit-mae-base says 1e-12; the official MAE uses 1e-6). Settings our model
// cannot run (another activation, no qkv bias, decoder MLP of another ratio) are refused by name.
import { type MaeConfig, mlpHidden, parseMaeConfig } from '../config/model.js';
import { decoderFor } from './infer.js';

export const HF_ARCHS = ['ViTMAEForPreTraining', 'ViTForImageClassification'] as const;
export type HfArch = (typeof HF_ARCHS)[number];

export class HfConfigError extends Error {}

/** config.json for `arch`; `numLabels` for a classifier with a head. */
export function toHfConfig(mc: MaeConfig, arch: HfArch, numLabels?: number): Record<string, unknown> {
  const common = {
    architectures: [arch],
    model_type: arch === 'ViTMAEForPreTraining' ? 'vit_mae' : 'vit',
    hidden_size: mc.embed_dim,
    num_hidden_layers: mc.depth,
    num_attention_heads: mc.num_heads,
    intermediate_size: mlpHidden(mc, mc.embed_dim),
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    layer_norm_eps: mc.layer_norm_eps,
    image_size: mc.img_size,
    patch_size: mc.patch_size,
    num_channels: mc.in_chans,
    qkv_bias: true,
    torch_dtype: 'float32',
  };
  if (arch === 'ViTForImageClassification') {
    if (numLabels === undefined) return common;
    const id2label = Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [`${i}`, `LABEL_${i}`]));
    const label2id = Object.fromEntries(Object.entries(id2label).map(([i, l]) => [l, Number(i)]));
    return { ...common, id2label, label2id };
  }
  return {
    ...common,
    decoder_hidden_size: mc.decoder_embed_dim,
    decoder_num_hidden_layers: mc.decoder_depth,
    decoder_num_attention_heads: mc.decoder_num_heads,
    decoder_intermediate_size: mlpHidden(mc, mc.decoder_embed_dim),
    mask_ratio: mc.mask_ratio,
    norm_pix_loss: mc.norm_pix_loss,
  };
}

/** The architecture a config.json names (its `architectures`, else its model_type). */
export function hfArchOf(cfg: Record<string, unknown>, source: string): HfArch {
  const named = Array.isArray(cfg.architectures) ? cfg.architectures : [];
  const arch = HF_ARCHS.find((a) => named.includes(a));
  if (arch) return arch;
  if (cfg.model_type === 'vit_mae') return 'ViTMAEForPreTraining';
  if (cfg.model_type === 'vit') return 'ViTForImageClassification';
  throw new HfConfigError(
    `${source}: architectures ${JSON.stringify(cfg.architectures)} and model_type ${JSON.stringify(cfg.model_type)}: not one of ${HF_ARCHS.join(', ')}`,
  );
}

/** Our configuration from a config.json; anything our model cannot run is refused by name. */
export function fromHfConfig(
  cfg: Record<string, unknown>,
  source: string,
): { model: MaeConfig; arch: HfArch } {
  const fail = (msg: string): never => {
    throw new HfConfigError(`${source}: ${msg}`);
  };
  const arch = hfArchOf(cfg, source);
  const num = (key: string, fallback?: number): number => {
    const v = cfg[key] ?? fallback;
    return typeof v === 'number' ? v : fail(`${key} is ${JSON.stringify(v)}, expected a number`);
  };
  if ((cfg.hidden_act ?? 'gelu') !== 'gelu')
    fail(`hidden_act ${JSON.stringify(cfg.hidden_act)}: only gelu is supported`);
  if (cfg.qkv_bias === false) fail('qkv_bias false: the model has query, key and value biases');
  const D = num('hidden_size');
  const mlpRatio = num('intermediate_size') / D;
  const decoder =
    arch === 'ViTMAEForPreTraining'
      ? {
          decoder_embed_dim: num('decoder_hidden_size'),
          decoder_depth: num('decoder_num_hidden_layers'),
          decoder_num_heads: num('decoder_num_attention_heads'),
        }
      : decoderFor(D);
  const raw = {
    img_size: num('image_size'),
    patch_size: num('patch_size'),
    in_chans: num('num_channels', 3),
    embed_dim: D,
    depth: num('num_hidden_layers'),
    num_heads: num('num_attention_heads'),
    ...decoder,
    mlp_ratio: mlpRatio,
    norm_pix_loss: cfg.norm_pix_loss === true,
    mask_ratio: num('mask_ratio', 0.75),
    layer_norm_eps: num('layer_norm_eps', 1e-12),
  };
  let model: MaeConfig;
  try {
    model = parseMaeConfig(raw);
  } catch (e) {
    return fail(`not a configuration this model runs: ${(e as Error).message}`);
  }
  if (
    arch === 'ViTMAEForPreTraining' &&
    num('decoder_intermediate_size') !== mlpHidden(model, model.decoder_embed_dim)
  )
    fail(
      `decoder_intermediate_size ${cfg.decoder_intermediate_size} is not the encoder's MLP ratio (${mlpRatio}) x decoder_hidden_size`,
    );
  return { model, arch };
}
