// state.ts: the classifier's parameters (models_vit's state_dict: the encoder, the final norm,
// `norm` with the cls token or `fc_norm` with the global pool, and the head) from a pretrained
// checkpoint as main_finetune.py loads one with --finetune: the decoder dropped, the position
// embedding interpolated when the input size gives another grid (interpolate_pos_embed), fc_norm
// fresh (LayerNorm 1, 0) unless the checkpoint has one, and the head new: trunc-normal std 2e-5
// weight, zero bias. Or the same architecture at random initialisation (the from-scratch baseline).
import { gridSize, type MaeConfig, parseMaeConfig } from '../config/model.js';
import { float32 } from '../convert/float.js';
import { modelConfigOf } from '../convert/hf.js';
import { checkImported, isDecoderName, isPretrainingOnlyName } from '../convert/shape_check.js';
import { truncNormal } from '../init/random_init.js';
import { initialState, type ModelState } from '../init/state.js';
import { numel, stateSpec } from '../init/state_spec.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { type Pool, poolNorm } from '../model/classifier.js';
import { Streams } from '../rng/noise.js';
import { PhiloxStream } from '../rng/stream.js';
import { interpolatePosEmbed } from './pos_embed.js';

/** main_finetune.py: trunc_normal_(model.head.weight, std=2e-5). */
export const HEAD_INIT_STD = 2e-5;

export interface ClassifierShape {
  classes: number;
  pool: Pool;
}

export interface ClassifierState {
  config: MaeConfig;
  state: ModelState;
  /** the checkpoint's grid and the model's, when the position embedding was interpolated */
  interpolated?: [number, number];
}

/** The classifier's parameters, names and shapes, in models_vit's state_dict order. */
export function classifierSpec(c: MaeConfig, o: ClassifierShape): { name: string; shape: number[] }[] {
  const D = c.embed_dim;
  const encoder = stateSpec(c).filter((s) => !isPretrainingOnlyName(s.name) && !s.name.startsWith('norm.'));
  const norm = poolNorm(o.pool);
  return [
    ...encoder.map(({ name, shape }) => ({ name, shape })),
    { name: `${norm}.weight`, shape: [D] },
    { name: `${norm}.bias`, shape: [D] },
    { name: 'head.weight', shape: [o.classes, D] },
    { name: 'head.bias', shape: [o.classes] },
  ];
}

/** The new head and a fresh final norm, seeded. */
function freshValue(name: string, shape: number[], seed: number): Float32Array | undefined {
  if (name === 'head.weight')
    return truncNormal(numel(shape), HEAD_INIT_STD, new PhiloxStream(seed, Streams.finetuneHead));
  if (name === 'head.bias' || name.endsWith('norm.bias')) return new Float32Array(numel(shape));
  if (name.endsWith('norm.weight')) return new Float32Array(numel(shape)).fill(1);
  return undefined;
}

/** The classifier from a checkpoint (ours, an official .pth or an HF folder) for images of inputSize. */
export async function classifierFromCheckpoint(
  path: string,
  o: ClassifierShape & { seed: number; inputSize?: number },
): Promise<ClassifierState> {
  const checkpoint = await loadCheckpoint(path);
  const base = modelConfigOf(checkpoint.config, path);
  const have = new Map(Object.entries(checkpoint.model));
  checkImported(have, base, ![...have.keys()].some(isDecoderName), `checkpoint ${path}`);
  const config = parseMaeConfig({ ...base, img_size: o.inputSize ?? base.img_size });
  const [G, g] = [gridSize(base), gridSize(config)];
  const state: ModelState = new Map();
  for (const { name, shape } of classifierSpec(config, o)) {
    const t = have.get(name);
    const kept = t && name !== 'head.weight' && name !== 'head.bias' && numel(t.shape) === numel(shape);
    let data = kept ? float32(t, name) : freshValue(name, shape, o.seed);
    if (name === 'pos_embed' && G !== g)
      data = interpolatePosEmbed(float32(t!, name), config.embed_dim, G, g);
    if (!data)
      throw new Error(
        `checkpoint ${path}: ${name} has shape [${t?.shape.join(', ')}], the model needs [${shape.join(', ')}]`,
      );
    state.set(name, { shape, data });
  }
  return { config, state, ...(G !== g ? { interpolated: [G, g] as [number, number] } : {}) };
}

/** The same classifier at random initialisation (the encoder as `pretrain --seed` draws it). */
export function randomClassifierState(config: MaeConfig, o: ClassifierShape & { seed: number }): ModelState {
  const init = initialState(config, o.seed);
  const state: ModelState = new Map();
  for (const { name, shape } of classifierSpec(config, o))
    state.set(name, { shape, data: init.get(name)?.data ?? freshValue(name, shape, o.seed)! });
  return state;
}
