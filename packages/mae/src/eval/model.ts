// model.ts: the model a checkpoint holds, for evaluation (any format loadCheckpoint reads), and the
// same architecture at random initialisation to compare with. An encoder-only checkpoint (an
// official mae_pretrain_*.pth, a classifier) gets the decoder of the random initialisation, which
// only `reconstruct` would use: it asks for a real one.
import type { DeviceSpec } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import { float32 } from '../convert/float.js';
import { modelConfigOf } from '../convert/hf.js';
import { checkImported, isDecoderName } from '../convert/shape_check.js';
import { initialState, type ModelState } from '../init/state.js';
import { stateSpec } from '../init/state_spec.js';
import { type LoadedCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { MaskedAutoencoder } from '../model/mae.js';
import { ParamStore } from '../model/params.js';

export interface EvalModel {
  model: MaskedAutoencoder;
  config: MaeConfig;
  checkpoint: LoadedCheckpoint;
  /** the checkpoint has no decoder (the model's is the random initialisation's) */
  encoderOnly: boolean;
}

export interface EvalModelOptions {
  device: DeviceSpec;
  /** refuse a checkpoint without a decoder (reconstructions need it) */
  decoder?: boolean;
  /** settings that do not change the tensors (mask_ratio) */
  overrides?: Partial<Pick<MaeConfig, 'mask_ratio'>>;
}

/** The model of a checkpoint (ours, an official .pth or an HF folder), on `device`. */
export async function modelFromCheckpoint(path: string, o: EvalModelOptions): Promise<EvalModel> {
  const checkpoint = await loadCheckpoint(path);
  const config = { ...modelConfigOf(checkpoint.config, path), ...o.overrides };
  const have = new Map(Object.entries(checkpoint.model));
  const encoderOnly = ![...have.keys()].some(isDecoderName);
  if (encoderOnly && o.decoder)
    throw new Error(
      `checkpoint ${path} has no decoder (an encoder-only checkpoint): reconstructions need one`,
    );
  checkImported(have, config, encoderOnly, `checkpoint ${path}`);
  const init = encoderOnly ? initialState(config, 0) : undefined;
  const state: ModelState = new Map();
  for (const s of stateSpec(config)) {
    const t = have.get(s.name);
    state.set(s.name, t ? { shape: [...s.shape], data: float32(t, s.name) } : init!.get(s.name)!);
  }
  const model = new MaskedAutoencoder(config, new ParamStore(state, o.device));
  return { model, config, checkpoint, encoderOnly };
}

/** The same architecture at random initialisation (seeded as `pretrain --seed`). */
export function randomInitModel(config: MaeConfig, seed: number, device: DeviceSpec): MaskedAutoencoder {
  return new MaskedAutoencoder(config, new ParamStore(initialState(config, seed), device));
}
