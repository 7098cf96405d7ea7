// checkpoint.ts: the linear probe's two checkpoints under the official names (head.0.running_mean,
// head.0.running_var: the BatchNorm's running statistics; head.1.weight, head.1.bias: the linear
// layer), each written to a temporary file then renamed: checkpoint-best.safetensors, the head of
// the best top-1 (epoch, accuracy and pool in the metadata); checkpoint-last.safetensors after
// every epoch, the head with LARS's momentum buffers (optimizer.mu.head.1.weight, .bias), the
// optimiser steps, the epochs done, the best epoch so far, the encoder's configuration, the class
// count, the pool and the command's settings, which `--resume` continues (train/state.ts); and the
// way back, refusing a checkpoint of another encoder, class count or pool.
import { join } from 'node:path';
import { Tensor } from '@mae-cuda/native';
import type { MaeConfig } from '../config/model.js';
import type { EvalEpoch } from '../eval/epochs.js';
import { BEST_FILE, bestExtra, type Resumed, readResume } from '../eval/resume.js';
import { type StTensor, writeSafetensorsAtomic } from '../io/safetensors.js';
import type { F32 } from '../model/params.js';
import { CHECKPOINT_FILE } from '../train/output_dir.js';
import type { ReadState } from '../train/state.js';
import { saveDeviceState } from '../train/state.js';
import type { ProbePool } from './features.js';
import type { ProbeHead } from './head.js';

/** The head's tensors under the official names. */
export function headTensors(head: ProbeHead): [string, F32][] {
  return [
    ['head.0.running_mean', head.runningMean],
    ['head.0.running_var', head.runningVar],
    ['head.1.weight', head.weight],
    ['head.1.bias', head.bias],
  ];
}

/** LARS's state: util/lars.py's param_state['mu'] of the weight and the bias. */
export function larsTensors(head: ProbeHead): [string, F32][] {
  return [
    ['mu.head.1.weight', head.muW.view([head.classes, head.dim])],
    ['mu.head.1.bias', head.muB],
  ];
}

const specOf = (ts: [string, F32][]) => ts.map(([name, t]) => ({ name, shape: [...t.shape] }));

/** The head of a new best epoch in dir/checkpoint-best.safetensors. */
export async function saveBestHead(
  dir: string,
  head: ProbeHead,
  e: EvalEpoch,
  pool: ProbePool,
): Promise<void> {
  const tensors: Record<string, StTensor> = {};
  for (const [name, t] of headTensors(head))
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: await t.toFloat32Array() };
  await writeSafetensorsAtomic(join(dir, BEST_FILE), tensors, {
    epoch: String(e.epoch),
    top1: String(e.top1),
    top5: String(e.top5),
    pool,
  });
}

/** What checkpoint-last records besides the tensors. */
export interface HeadRecord {
  model: MaeConfig;
  classes: number;
  pool: ProbePool;
  [key: string]: unknown;
}

/** The state to resume from after epoch e (after `steps` LARS steps) in dir/checkpoint-last.safetensors. */
export async function saveLastHead(
  dir: string,
  head: ProbeHead,
  o: { e: EvalEpoch; best: EvalEpoch; steps: number; record: HeadRecord },
): Promise<void> {
  await saveDeviceState(join(dir, CHECKPOINT_FILE), {
    model: headTensors(head),
    optimizer: larsTensors(head),
    step: o.steps,
    epoch: o.e.epoch + 1,
    config: o.record,
    extra: bestExtra(o.best),
  });
}

/** Reads checkpoint-last `path` for a head of `classes` on the `pool` features of encoder `model`. */
export async function resumeHead(
  path: string,
  head: ProbeHead,
  o: { model: MaeConfig; classes: number; pool: ProbePool; modelFlag: string },
): Promise<Resumed> {
  return readResume(path, {
    model: o.model,
    modelFlag: o.modelFlag,
    spec: specOf(headTensors(head)),
    optimizer: specOf(larsTensors(head)),
    shape: [
      { key: 'classes', value: o.classes, describe: (v) => `${v} classes (--data)` },
      {
        key: 'pool',
        value: o.pool,
        describe: (v) => (v === 'global' ? '--global-pool' : `the ${v} token's features (no --global-pool)`),
      },
    ],
  });
}

/** Puts a read state's tensors into the head. */
export function restoreHead(head: ProbeHead, r: ReadState): void {
  const put = (t: F32, data: Float32Array) => t.copyFrom(Tensor.fromArray('f32', t.shape, data, t.device));
  for (const [name, t] of headTensors(head)) put(t, r.state.get(name)!.data as Float32Array);
  for (const [name, t] of larsTensors(head)) put(t, r.optimizer.get(name)!);
}
