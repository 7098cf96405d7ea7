// index.ts: the trainer's public surface (docs/API.md), with the tensors, devices and generated
// ops of @mae-cuda/native re-exported, so that this package alone runs a kernel.
export {
  buildInfo,
  type DeviceSpec,
  type DType,
  devices,
  ops,
  Tensor,
} from '@mae-cuda/native';

export * from './bench/index.js';
export * from './config/index.js';
export * from './convert/index.js';
export * from './data/index.js';
export * from './dist/index.js';
export * from './eval/index.js';
export * from './finetune/index.js';
export * from './init/index.js';
export * from './io/checkpoint.js';
export {
  openSafetensors,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  type SafetensorsReader,
  type StDType,
  type StEntry,
  type StFile,
  type StSource,
  type StTensor,
  serializeSafetensors,
  stTensor,
  withSafetensors,
  writeFileAtomic,
  writeSafetensorsAtomic,
} from './io/safetensors.js';
export * from './linprobe/index.js';
export * from './masking/index.js';
export * from './model/block.js';
export * from './model/classifier.js';
export * from './model/layers.js';
export * from './model/mae.js';
export * from './model/params.js';
export * from './model/plan.js';
export * from './optim/adamw.js';
export * from './optim/layer_decay.js';
export * from './parity/compare.js';
export * from './parity/run.js';
export * from './perf/index.js';
export * from './rng/index.js';
export * from './schedule/index.js';
export * from './train/index.js';
export * from './viz/index.js';
