// param_groups.ts: which parameters train and which get weight decay, as the official
// main_pretrain.py sets up AdamW (timm optim_factory.add_weight_decay): parameters with
// requires_grad=False (pos_embed, decoder_pos_embed) are left out; among the rest, those with one
// dimension or a name ending in `.bias` get no weight decay, all others (cls_token and mask_token
// included) do.

/** The fixed (requires_grad=False) parameters of MaskedAutoencoderViT. */
export const FROZEN_PARAMS: ReadonlySet<string> = new Set(['pos_embed', 'decoder_pos_embed']);

export interface ParamGroups {
  /** every trainable parameter, in the given order */
  trainable: string[];
  /** the fixed ones */
  frozen: string[];
  /** trainable, weight decay applied */
  decay: string[];
  /** trainable, weight decay 0 */
  noDecay: string[];
}

/** True if AdamW applies weight decay to this (trainable) parameter. */
export function hasWeightDecay(name: string, shape: readonly number[]): boolean {
  return !(shape.length === 1 || name.endsWith('.bias'));
}

/** Splits named parameters (e.g. a ModelState map, or [name, {shape}] pairs) into the groups. */
export function paramGroups(
  params: Iterable<readonly [string, { readonly shape: readonly number[] }]>,
): ParamGroups {
  const groups: ParamGroups = { trainable: [], frozen: [], decay: [], noDecay: [] };
  for (const [name, { shape }] of params) {
    if (FROZEN_PARAMS.has(name)) {
      groups.frozen.push(name);
      continue;
    }
    groups.trainable.push(name);
    (hasWeightDecay(name, shape) ? groups.decay : groups.noDecay).push(name);
  }
  return groups;
}
