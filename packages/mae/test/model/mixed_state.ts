// mixed_state.ts: a small model state mixing the AdamW groups (decayed matrices and tokens,
// undecayed biases and 1-D parameters, the two frozen position embeddings), listed out of group
// order so the flat layout has to reorder it; values from a seeded LCG in [-0.5, 0.5).
import type { ModelState } from '../../src/init/state.js';

/** A state mixing the groups, frozen and no-decay entries first so the layout must reorder. */
export function mixedState(seed = 1): ModelState {
  const spec: [string, number[]][] = [
    ['pos_embed', [1, 3, 4]],
    ['a.bias', [300]],
    ['cls_token', [1, 1, 4]],
    ['a.weight', [300, 3]],
    ['norm.weight', [4]],
    ['b.weight', [5, 7]],
    ['decoder_pos_embed', [1, 3, 2]],
    ['b.bias', [5]],
  ];
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return new Map(
    spec.map(([name, shape]) => [
      name,
      { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next) },
    ]),
  );
}
