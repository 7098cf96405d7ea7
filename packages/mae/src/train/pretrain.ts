// pretrain.ts: pretrain(), a whole run from its settings, as `mae-cuda pretrain` runs it: the
// settings checked (a PretrainConfigError names every field it refuses), the model they resolve to,
// the images of their `data` opened (data.ts) and closed again, the loop (trainer.ts), then on rank
// 0 the end-of-run evaluation when the settings ask for it (evaluate.ts; with eval auto, skipped
// with a message where the data does not fit it: too few digits). A caller may give the
// model or the images itself.
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
import { evaluateRun, evaluates, type RunEvaluation } from './evaluate.js';
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
  /**
   * run the end-of-run evaluation as config.eval says (true: `train` holds config.data's images as
   * openTrainData opens them, so the first of them are what the run trained on); false: never.
   * Default: as config.eval says when pretrain() opens the images itself, never when given `train`.
   */
  evaluate?: boolean;
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

export interface PretrainRunResult extends PretrainResult {
  /** the end-of-run evaluation (rank 0, when config.eval asks for one and the run trained) */
  evaluation?: RunEvaluation;
}

/** Pretrains an MAE; the outputs go to config.output_dir (checkpoint-last.safetensors, log.jsonl, ...). */
export async function pretrain(o: PretrainOptions = {}): Promise<PretrainRunResult> {
  const resolved = resolvePretrainConfig(o.config);
  const c = resolved.config;
  const model = o.model ?? resolved.model;
  const run = { ...o, config: c, model };
  const trained = async (r: PretrainResult, trainImages: number): Promise<PretrainRunResult> => {
    if (
      !(o.evaluate ?? o.train === undefined) ||
      !evaluates(c) ||
      (o.collective?.rank ?? 0) !== 0 ||
      r.losses.length === 0
    )
      return r;
    o.log?.(
      `evaluating: kNN accuracy of the encoder against the same model at random init (${c.eval_train} neighbours, ${c.eval_test} test images)`,
    );
    try {
      const evaluation = await evaluateRun({
        config: c,
        model: r.model,
        mc: model,
        steps: r.steps,
        trainImages,
        outputDir: r.outputDir,
      });
      return { ...r, evaluation };
    } catch (e) {
      // asked for (eval knn): its failure is the run's; auto: a source it does not fit is skipped
      if (c.eval !== 'auto' || !(e instanceof Error)) throw e;
      o.log?.(`evaluation skipped: ${e.message} (--eval-train/--eval-test size it; --eval none skips it)`);
      return r;
    }
  };
  if (o.train) return trained(await runPretraining({ ...run, train: o.train }), o.train.length);
  const data = await openTrainData(c, model);
  try {
    const preview = o.preview ?? data.preview;
    const r = await runPretraining({ ...run, train: data.train, ...(preview ? { preview } : {}) });
    return trained(r, data.train.length);
  } finally {
    await data.close();
  }
}
