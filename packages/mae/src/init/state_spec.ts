// state_spec.ts: the parameters of the official MaskedAutoencoderViT, in state_dict order, with
// their shapes and how initialize_weights sets them:
//   pos_embed, decoder_pos_embed  fixed 2-D sin-cos (cls row zero)
//   cls_token, mask_token         normal(std 0.02)
//   encoder_mask_token            normal(std 0.02), as mask_token (Table 1c's ablation)
// With encoder_mask_token the model has [1, 1, D] encoder_mask_token in place of the decoder's
// [1, 1, Dd] mask_token (the decoder embeds all L encoder outputs and inserts no token).
//   patch_embed.proj.weight       xavier_uniform on the [D, C*p*p] view (fan_in = C*p*p)
//   patch_embed.proj.bias         Conv2d default: U(-1/sqrt(C*p*p), 1/sqrt(C*p*p)) (not zeroed)
//   nn.Linear weight / bias       xavier_uniform / 0
//   LayerNorm weight / bias       1 / 0
import { gridSize, type MaeConfig, mlpHidden, numPatches, patchDim } from '../config/model.js';

export type InitRule =
  | { kind: 'sincos'; dim: number; grid: number }
  | { kind: 'normal'; std: number }
  | { kind: 'xavier'; fanOut: number; fanIn: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'zeros' }
  | { kind: 'ones' };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: InitRule;
}

const zeros: InitRule = { kind: 'zeros' };
const ones: InitRule = { kind: 'ones' };

function linear(prefix: string, out: number, inp: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [out, inp], init: { kind: 'xavier', fanOut: out, fanIn: inp } },
    { name: `${prefix}.bias`, shape: [out], init: zeros },
  ];
}

function layerNorm(prefix: string, dim: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [dim], init: ones },
    { name: `${prefix}.bias`, shape: [dim], init: zeros },
  ];
}

/** A timm Block (qkv_bias=True): norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2. */
function block(prefix: string, dim: number, hidden: number): ParamSpec[] {
  return [
    ...layerNorm(`${prefix}.norm1`, dim),
    ...linear(`${prefix}.attn.qkv`, 3 * dim, dim),
    ...linear(`${prefix}.attn.proj`, dim, dim),
    ...layerNorm(`${prefix}.norm2`, dim),
    ...linear(`${prefix}.mlp.fc1`, hidden, dim),
    ...linear(`${prefix}.mlp.fc2`, dim, hidden),
  ];
}

/** Every parameter of the model, in the official state_dict order. */
export function stateSpec(c: MaeConfig): ParamSpec[] {
  const D = c.embed_dim;
  const Dd = c.decoder_embed_dim;
  const L = numPatches(c);
  const G = gridSize(c);
  const p = c.patch_size;
  const fanIn = c.in_chans * p * p;
  const specs: ParamSpec[] = [
    { name: 'cls_token', shape: [1, 1, D], init: { kind: 'normal', std: 0.02 } },
    { name: 'pos_embed', shape: [1, L + 1, D], init: { kind: 'sincos', dim: D, grid: G } },
    c.encoder_mask_token
      ? { name: 'encoder_mask_token', shape: [1, 1, D], init: { kind: 'normal', std: 0.02 } }
      : { name: 'mask_token', shape: [1, 1, Dd], init: { kind: 'normal', std: 0.02 } },
    { name: 'decoder_pos_embed', shape: [1, L + 1, Dd], init: { kind: 'sincos', dim: Dd, grid: G } },
    {
      name: 'patch_embed.proj.weight',
      shape: [D, c.in_chans, p, p],
      init: { kind: 'xavier', fanOut: D, fanIn },
    },
    { name: 'patch_embed.proj.bias', shape: [D], init: { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) } },
  ];
  for (let i = 0; i < c.depth; i++) specs.push(...block(`blocks.${i}`, D, mlpHidden(c, D)));
  specs.push(...layerNorm('norm', D));
  specs.push(...linear('decoder_embed', Dd, D));
  for (let i = 0; i < c.decoder_depth; i++) specs.push(...block(`decoder_blocks.${i}`, Dd, mlpHidden(c, Dd)));
  specs.push(...layerNorm('decoder_norm', Dd));
  specs.push(...linear('decoder_pred', patchDim(c), Dd));
  return specs;
}

/** Number of values of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
