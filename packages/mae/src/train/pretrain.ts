// pretrain.ts: pretrain(), a whole run from its settings, as `mae-cuda pretrain` runs it: the
// settings checked (a PretrainConfigError names every field it refuses), the model they resolve to,
// the images of their `data` opened (data.ts) and closed again, then the loop (trainer.ts). A
// caller may give the model or the images itself.
import type { MaeConfig } from '../config/model.js';
import type { ImageDataset } from '../data/dataset.js';
import type { StreamedImages } from '../data/pipeline/streamed.js';
import {
  type ConfigIssue,
  checkPretrainConfig,
  type PretrainConfig,
  type PretrainConfigInput,
} from './config.js';
import { openTrainData } from './data.js';
import { type PretrainLoopOptions, type PretrainResult, runPretraining } from './trainer.js';

/** Settings that a run refuses; `issues` names each field (snake_case) and what is wrong with it. */
export class PretrainConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`pretrain: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'PretrainConfigError';
  }
}

export interface PretrainOptions extends Omit<PretrainLoopOptions, 'config' | 'model' | 'train'> {
  /** the run's settings, snake_case as in a `--config` file (config.ts); unset ones take their defaults */
  config?: PretrainConfigInput;
  /** the model; default: the one the settings resolve to (preset, input size, architecture fields) */
  model?: MaeConfig;
  /** the training images; default: those of config.data (with its preview images), closed at the end */
  train?: ImageDataset | StreamedImages;
}

/** The checked settings of a run and the model they resolve to; throws a PretrainConfigError. */
export function resolvePretrainConfig(settings: PretrainConfigInput = {}): {
  config: PretrainConfig;
  model: MaeConfig;
} {
  const r = checkPretrainConfig(settings);
  if (!r.config) throw new PretrainConfigError(r.issues);
  return { config: r.config, model: r.model! };
}

/** Pretrains an MAE; the outputs go to config.output_dir (checkpoint-last.safetensors, log.jsonl, ...). */
export async function pretrain(o: PretrainOptions = {}): Promise<PretrainResult> {
  const resolved = resolvePretrainConfig(o.config);
  const model = o.model ?? resolved.model;
  const run = { ...o, config: resolved.config, model };
  if (o.train) return runPretraining({ ...run, train: o.train });
  const data = await openTrainData(resolved.config, model);
  try {
    const preview = o.preview ?? data.preview;
    return await runPretraining({ ...run, train: data.train, ...(preview ? { preview } : {}) });
  } finally {
    await data.close();
  }
}
