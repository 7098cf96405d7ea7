// checkpoint.ts: fine-tuning's two checkpoints, both under models_vit's names with the model
// configuration, class count, pool, trained part and the command's settings in the metadata,
// written to a temporary file then renamed (train/state.ts): checkpoint-best.safetensors, the
// classifier of the best top-1; checkpoint-last.safetensors after every epoch, the classifier with
// AdamW's moments (optimizer.exp_avg.<name>, optimizer.exp_avg_sq.<name> of the trained
// parameters), its step, the epochs done and the best epoch so far, which `--resume` continues;
// and the way back, refusing a checkpoint of another model, pool, class count or trained part.
import { join } from 'node:path';
import type { MaeConfig } from '../config/model.js';
import type { EvalEpoch } from '../eval/epochs.js';
import { BEST_FILE, bestExtra, type Resumed, readResume } from '../eval/resume.js';
import type { Pool, VitClassifier } from '../model/classifier.js';
import type { LayerDecayAdamW } from '../optim/layer_decay.js';
import { CHECKPOINT_FILE } from '../train/output_dir.js';
import { type DeviceState, momentSpec, momentTensors, saveDeviceState } from '../train/state.js';
import { isTrainable, type Trainable } from './groups.js';
import { classifierSpec } from './state.js';

/** What both record besides the tensors: the shape of the model and `extra` (the settings). */
interface RecordOptions {
  trainable: Trainable;
  extra?: Record<string, unknown>;
}

/** The classifier (and `s.optimizer`) at `path`, with the record. */
function save(
  path: string,
  model: VitClassifier,
  o: RecordOptions,
  s: Omit<DeviceState, 'model' | 'config'>,
) {
  const config = {
    model: model.config,
    classes: model.classes,
    pool: model.pool,
    trainable: o.trainable,
    ...o.extra,
  };
  return saveDeviceState(path, { ...s, model: model.params.values, config });
}

/** The classifier of a new best epoch, in dir/checkpoint-best.safetensors. */
export async function saveBestClassifier(
  dir: string,
  model: VitClassifier,
  o: RecordOptions & { e: EvalEpoch; step: number },
): Promise<void> {
  const extra = { top1: String(o.e.top1), top5: String(o.e.top5) };
  await save(join(dir, BEST_FILE), model, o, { optimizer: [], step: o.step, epoch: o.e.epoch, extra });
}

/** The state to resume from after epoch e, in dir/checkpoint-last.safetensors. */
export async function saveLastClassifier(
  dir: string,
  model: VitClassifier,
  optim: LayerDecayAdamW,
  o: RecordOptions & { e: EvalEpoch; best: EvalEpoch },
): Promise<void> {
  const s = {
    optimizer: momentTensors(optim),
    step: optim.step,
    epoch: o.e.epoch + 1,
    extra: bestExtra(o.best),
  };
  await save(join(dir, CHECKPOINT_FILE), model, o, s);
}

/** --trainable-blocks k, --trainable mlp-last or all, as the flags give it. */
export function trainableFlag(t: unknown): string {
  const v = t as Trainable | undefined;
  if (v?.kind === 'blocks') return `--trainable-blocks ${v.k}`;
  return v?.kind ? `--trainable ${v.kind}` : 'no recorded trained part';
}

/**
 * Reads checkpoint-last `path` to continue fine-tuning the classifier of `config`, `classes`,
 * `pool` and `trainable` (refused, naming the flag, when the checkpoint's differs).
 */
export async function resumeClassifier(
  path: string,
  o: { config: MaeConfig; classes: number; pool: Pool; trainable: Trainable; modelFlag: string },
): Promise<Resumed> {
  const spec = classifierSpec(o.config, o);
  const trained = spec.filter((s) => isTrainable(s.name, o.trainable, o.config.depth)).map((s) => s.name);
  return readResume(path, {
    model: o.config,
    modelFlag: o.modelFlag,
    spec,
    optimizer: momentSpec(spec, trained),
    shape: [
      { key: 'classes', value: o.classes, describe: (v) => `${v} classes (--data)` },
      {
        key: 'pool',
        value: o.pool,
        describe: (v) => (v === 'cls' ? '--cls-token' : `the ${v} pool (no --cls-token)`),
      },
      { key: 'trainable', value: o.trainable, describe: trainableFlag },
    ],
  });
}
