// hf_names.ts: the one table between the official MAE / timm state_dict names (ours) and Hugging
// Face's ViTMAEForPreTraining / ViTForImageClassification names, both ways. A block's fused
// attn.qkv becomes attention.attention.query, key and value (its rows split in three, in that
// order); every other tensor keeps its shape and values.
import type { StTensor } from '../io/st_types.js';

/** Whole-model modules and tensors: ours -> HF. */
const TOP: readonly (readonly [string, string])[] = [
  ['cls_token', 'vit.embeddings.cls_token'],
  ['pos_embed', 'vit.embeddings.position_embeddings'],
  ['patch_embed.proj', 'vit.embeddings.patch_embeddings.projection'],
  ['norm', 'vit.layernorm'],
  ['mask_token', 'decoder.mask_token'],
  ['decoder_pos_embed', 'decoder.decoder_pos_embed'],
  ['decoder_embed', 'decoder.decoder_embed'],
  ['decoder_norm', 'decoder.decoder_norm'],
  ['decoder_pred', 'decoder.decoder_pred'],
  ['head', 'classifier'],
];
/** Block stacks: ours -> HF. */
const STACKS: readonly (readonly [string, string])[] = [
  ['blocks', 'vit.encoder.layer'],
  ['decoder_blocks', 'decoder.decoder_layers'],
];
/** A block's modules: ours (timm Block) -> HF ViTLayer. */
const BLOCK: readonly (readonly [string, string])[] = [
  ['norm1', 'layernorm_before'],
  ['attn.proj', 'attention.output.dense'],
  ['norm2', 'layernorm_after'],
  ['mlp.fc1', 'intermediate.dense'],
  ['mlp.fc2', 'output.dense'],
];
const QKV = 'attn.qkv';
const QKV_PARTS = ['query', 'key', 'value'] as const;
const HF_ATTENTION = 'attention.attention';

export class NameMapError extends Error {}

type Pairs = readonly (readonly [string, string])[];
const lookup = (pairs: Pairs, key: string, from: 0 | 1) => pairs.find((p) => p[from] === key)?.[1 - from];

/** A name's module and its parameter suffix ('.weight', '.bias' or '' for a bare tensor). */
function splitParam(name: string): [string, string] {
  const m = /^(.*)(\.weight|\.bias)$/.exec(name);
  return m ? [m[1]!, m[2]!] : [name, ''];
}

/** A module's name on the other side (from 0: ours -> HF; from 1: HF -> ours), or undefined. */
function mapModule(module: string, from: 0 | 1): string | undefined {
  const top = lookup(TOP, module, from);
  if (top !== undefined) return top;
  for (const stack of STACKS) {
    const prefix = `${stack[from]}.`;
    const m = /^(\d+)\.(.+)$/.exec(module.startsWith(prefix) ? module.slice(prefix.length) : '');
    if (!m) continue;
    const inner = lookup(BLOCK, m[2]!, from);
    if (inner !== undefined) return `${stack[1 - from]}.${m[1]}.${inner}`;
  }
  return undefined;
}

/** Splits a tensor along its first axis into three equal parts. */
function split3(t: StTensor): StTensor[] {
  const part = t.data.length / 3;
  const shape = [t.shape[0]! / 3, ...t.shape.slice(1)];
  return [0, 1, 2].map(
    (k) => ({ dtype: t.dtype, shape, data: t.data.slice(k * part, (k + 1) * part) }) as StTensor,
  );
}

/** Joins three tensors of one dtype and shape along the first axis. */
function join3(parts: StTensor[], name: string): StTensor {
  const [a] = parts as [StTensor];
  if (parts.some((p) => p.dtype !== a.dtype || p.shape.join() !== a.shape.join()))
    throw new NameMapError(`${name}: query, key and value differ in dtype or shape`);
  const data = new (a.data.constructor as new (n: number) => StTensor['data'])(a.data.length * 3);
  parts.forEach((p, k) => (data as Float32Array).set(p.data as Float32Array, k * a.data.length));
  return { dtype: a.dtype, shape: [a.shape[0]! * 3, ...a.shape.slice(1)], data } as StTensor;
}

function refuse(names: string[], side: string): never {
  const hint = names.some((n) => n.startsWith('fc_norm'))
    ? ' (fc_norm: a global-pool classifier, which HF ViT has not)'
    : '';
  throw new NameMapError(`no ${side} name for ${names.join(', ')}${hint}`);
}

/** Our (official) tensors under Hugging Face's names. */
export function toHfNames(state: ReadonlyMap<string, StTensor>): Map<string, StTensor> {
  const out = new Map<string, StTensor>();
  const unknown: string[] = [];
  for (const [name, t] of state) {
    const [module, param] = splitParam(name);
    const qkv = new RegExp(`^(.*)\\.${QKV.replace('.', '\\.')}$`).exec(module);
    const block = qkv ? mapModule(`${qkv[1]}.norm1`, 0)?.replace(/\.layernorm_before$/, '') : undefined;
    if (block !== undefined) {
      split3(t).forEach((p, k) => out.set(`${block}.${HF_ATTENTION}.${QKV_PARTS[k]}${param}`, p));
      continue;
    }
    const hf = mapModule(module, 0);
    if (hf === undefined) unknown.push(name);
    else out.set(hf + param, t);
  }
  if (unknown.length) refuse(unknown, 'Hugging Face');
  return out;
}

/** Hugging Face's tensors under our (official) names. */
export function fromHfNames(hf: ReadonlyMap<string, StTensor>): Map<string, StTensor> {
  const out = new Map<string, StTensor>();
  const unknown: string[] = [];
  const qkv = new Map<string, StTensor[]>();
  for (const [name, t] of hf) {
    const [module, param] = splitParam(name);
    const m = new RegExp(`^(.*)\\.${HF_ATTENTION.replace('.', '\\.')}\\.(query|key|value)$`).exec(module);
    const block = m ? mapModule(`${m[1]}.layernorm_before`, 1)?.replace(/\.norm1$/, '') : undefined;
    if (m && block !== undefined) {
      const key = `${block}.${QKV}${param}`;
      const parts = qkv.get(key) ?? [];
      parts[QKV_PARTS.indexOf(m[2] as (typeof QKV_PARTS)[number])] = t;
      qkv.set(key, parts);
      continue;
    }
    const ours = mapModule(module, 1);
    if (ours === undefined) unknown.push(name);
    else out.set(ours + param, t);
  }
  if (unknown.length) refuse(unknown, 'official MAE');
  for (const [key, parts] of qkv) {
    const missing = QKV_PARTS.filter((_, k) => !parts[k]);
    if (missing.length) throw new NameMapError(`${key}: ${missing.join(', ')} missing from the attention`);
    out.set(key, join3(parts, key));
  }
  return out;
}
