// run_start.ts: how a pretraining run starts: the dataset matched to the model (grey images given
// to an RGB model as PIL's convert('RGB') does: each channel the grey value), the output folder
// decided (output_dir.ts: never another run's checkpoint replaced silently), the model and
// optimiser fresh or from the checkpoint (refused when any value is non-finite), rank 0's state
// broadcast to every rank, and rank 0's outputs (config.json, the continued log) set up.
import { dirname, join } from 'node:path';
import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import { ImageDataset } from '../data/dataset.js';
import type { StreamedImages } from '../data/pipeline/streamed.js';
import type { Collective } from '../dist/collective.js';
import { paramGroups } from '../init/param_groups.js';
import { initialState } from '../init/state.js';
import { stateSpec } from '../init/state_spec.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { ParamStore } from '../model/params.js';
import { AdamW, DEFAULT_ADAMW } from '../optim/adamw.js';
import type { PretrainConfig } from './config.js';
import { startHistory } from './history.js';
import { planOutputDir, prepareOutputDir } from './output_dir.js';
import { RunOutputs } from './outputs.js';
import { PretrainSetupError } from './run_plan.js';
import { loadTrainingState, type RunMetadata, restoreOptimizer } from './state.js';

/** Settings whose change on resume makes the losses differ from an uninterrupted run. */
const TRAIN_KEYS = [
  'batch_size',
  'accum_iter',
  'seed',
  'limit',
  'data',
  'epochs',
  'blr',
  'lr',
  'min_lr',
] as const;

/** The dataset as the model takes it: grey to RGB where the model has 3 channels; sizes checked. */
export function datasetForModel<D extends ImageDataset | StreamedImages>(train: D, mc: MaeConfig): D {
  const [C, H, W] = train.shape;
  const ds =
    C === 1 && mc.in_chans === 3 && train instanceof ImageDataset ? (train.withChannels(3) as D) : train;
  if (ds.shape[0] !== mc.in_chans)
    throw new PretrainSetupError(
      'model',
      `the dataset's images have ${C} channels; the model takes ${mc.in_chans}`,
    );
  if (H !== mc.img_size || W !== mc.img_size)
    throw new PretrainSetupError(
      'input_size',
      `the dataset's images are ${H}x${W}; input_size is ${mc.img_size} (resizing is not supported)`,
    );
  return ds;
}

export interface RunStart {
  params: ParamStore;
  optim: AdamW;
  /** rank 0's outputs (undefined on the other ranks) */
  outputs?: RunOutputs;
}

interface StartArgs {
  c: PretrainConfig;
  mc: MaeConfig;
  meta: RunMetadata;
  stepsPerEpoch: number;
  coll: Collective;
  log: (m: string) => void;
}

/** Model, optimiser and outputs of a run, fresh or resumed (rank 0 decides and reads). */
export async function startRun(a: StartArgs): Promise<RunStart> {
  const { c, mc, coll } = a;
  const device = c.device as DeviceSpec;
  const lead = coll.rank === 0;
  const adamw = { ...DEFAULT_ADAMW, weightDecay: c.weight_decay };
  const decided = lead ? await planOutputDir(c) : {};
  if (decided.message) a.log(decided.message);
  let params: ParamStore;
  let optim: AdamW;
  if (decided.resume) {
    const trainable = paramGroups(stateSpec(mc).map((p) => [p.name, p] as const)).trainable;
    const r = await loadTrainingState(decided.resume, mc, trainable);
    params = new ParamStore(r.state, device);
    optim = new AdamW(params, adamw);
    restoreOptimizer(optim, r);
    warnChanged(c, r.meta, a.log);
    a.log(
      `resumed from ${decided.resume} at step ${optim.step} (epoch ${Math.floor(optim.step / a.stepsPerEpoch)})`,
    );
  } else {
    params = new ParamStore(initialState(mc, c.seed), device);
    optim = new AdamW(params, adamw);
  }
  if (coll.world > 1) await broadcastState(coll, params, optim);
  if (!lead) return { params, optim };
  return { params, optim, outputs: await startOutputs(a, decided.resume, optim.step) };
}

function warnChanged(c: PretrainConfig, meta: Partial<RunMetadata>, log: (m: string) => void): void {
  const was = (meta as { train?: Record<string, unknown> }).train ?? {};
  const changed = TRAIN_KEYS.filter((k) => k in was && JSON.stringify(was[k]) !== JSON.stringify(c[k]));
  if (changed.length)
    log(
      `warning: ${changed.join(', ')} differ from the checkpoint's run; the losses will not match an uninterrupted run`,
    );
}

/** Every rank starts from rank 0's weights, moments and step (rank 0 alone read a checkpoint). */
async function broadcastState(coll: Collective, params: ParamStore, optim: AdamW): Promise<void> {
  await coll.broadcast(params.flatValues);
  await coll.broadcast(optim.flatM);
  await coll.broadcast(optim.flatV);
  const step = Tensor.fromArray('i32', [1], [optim.step]);
  await coll.broadcast(step);
  optim.step = step.toArraySync()[0]!;
}

async function startOutputs(a: StartArgs, resume: string | undefined, step: number): Promise<RunOutputs> {
  const out = a.c.output_dir;
  prepareOutputDir(out, { resume, overwrite: a.c.overwrite }, a.log);
  try {
    await writeFileAtomic(
      join(out, 'config.json'),
      new TextEncoder().encode(`${JSON.stringify(a.meta, null, 2)}\n`),
    );
  } catch (e) {
    throw new Error(`${(e as Error).message} (the output folder, --output-dir ${out}, must be writable)`, {
      cause: e,
    });
  }
  const history = await startHistory(out, resume ? step : undefined, resume ? dirname(resume) : out);
  return new RunOutputs(
    out,
    a.meta,
    a.c.keep_checkpoints,
    history,
    resume ? { path: resume, step } : undefined,
  );
}
