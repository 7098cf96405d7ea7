// groups.ts: which parameters fine-tuning trains and AdamW's groups for them, as the official
// util/lr_decay.py param_groups_lrd: weight decay for every trainable parameter but the 1-D ones and
// model.no_weight_decay() (pos_embed, cls_token); layer ids from get_layer_id_for_vit (the stem 0,
// block i i + 1, the rest, norms and head, depth + 1) and lr_scale = layer_decay ** (depth + 1 -
// layer_id); one group per (layer, decay), in the order the parameters first reach it.
// Partial fine-tuning trains the last k blocks (the paper's Figure 9) or the last block's MLP
// sub-block (norm2 + mlp, its "MLP" result), plus the final norm and the head.
import type { ParamGroups } from '../init/param_groups.js';

export type Trainable = { kind: 'all' } | { kind: 'blocks'; k: number } | { kind: 'mlp-last' };

/** model.no_weight_decay() of models_vit ('dist_token' does not exist in it). */
const NO_WEIGHT_DECAY: ReadonlySet<string> = new Set(['pos_embed', 'cls_token']);

/** util/lr_decay.py get_layer_id_for_vit (numLayers = depth + 1). */
export function layerId(name: string, numLayers: number): number {
  if (NO_WEIGHT_DECAY.has(name) || name.startsWith('patch_embed')) return 0;
  const block = /^blocks\.(\d+)\./.exec(name);
  return block ? Number(block[1]) + 1 : numLayers;
}

const blockOf = (name: string) => Number(/^blocks\.(\d+)\./.exec(name)?.[1] ?? Number.NaN);

/** Whether fine-tuning trains this parameter. */
export function isTrainable(name: string, t: Trainable, depth: number): boolean {
  const b = blockOf(name);
  const head = !name.startsWith('blocks.') && layerId(name, depth + 1) === depth + 1;
  if (t.kind === 'all' || head) return true;
  if (t.kind === 'blocks') return b >= depth - t.k;
  return b === depth - 1 && /^blocks\.\d+\.(norm2|mlp)\./.test(name);
}

/** The first block the backward must reach (0: all, and the stem when everything trains). */
export function firstTrainedBlock(t: Trainable, depth: number): number {
  return t.kind === 'all' ? 0 : t.kind === 'blocks' ? depth - t.k : depth - 1;
}

export interface OptimGroup {
  layer: number;
  decay: boolean;
  lrScale: number;
  weightDecay: number;
  names: string[];
}

export interface GroupOptions {
  depth: number;
  weightDecay: number;
  layerDecay: number;
  trainable: Trainable;
}

/** param_groups_lrd over the named parameters (state order), the frozen ones left out. */
export function paramGroupsLrd(
  params: Iterable<readonly [string, { readonly shape: readonly number[] }]>,
  o: GroupOptions,
): OptimGroup[] {
  const numLayers = o.depth + 1;
  const groups = new Map<string, OptimGroup>();
  for (const [name, { shape }] of params) {
    if (!isTrainable(name, o.trainable, o.depth)) continue;
    const decay = !(shape.length === 1 || NO_WEIGHT_DECAY.has(name));
    const layer = layerId(name, numLayers);
    const key = `layer_${layer}_${decay ? 'decay' : 'no_decay'}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        layer,
        decay,
        lrScale: o.layerDecay ** (numLayers - layer),
        weightDecay: decay ? o.weightDecay : 0,
        names: [],
      };
      groups.set(key, g);
    }
    g.names.push(name);
  }
  return [...groups.values()];
}

/**
 * The parameter store's segments for these groups: the decayed groups' parameters first, then the
 * others', each group contiguous (so AdamW updates a group as one range); the untrained last.
 */
export function storeGroups(groups: readonly OptimGroup[], names: readonly string[]): ParamGroups {
  const decay = groups.filter((g) => g.decay).flatMap((g) => g.names);
  const noDecay = groups.filter((g) => !g.decay).flatMap((g) => g.names);
  const trained = new Set([...decay, ...noDecay]);
  return { trainable: [...decay, ...noDecay], decay, noDecay, frozen: names.filter((n) => !trained.has(n)) };
}
