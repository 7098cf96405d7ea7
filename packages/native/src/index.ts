// index.ts: the public API of @mae-cuda/native.

export * as ops from '../generated/ops.js';
export * from './addon_path.js';
export * from './binding.js';
export * from './device.js';
export * from './dtype.js';
export * from './emulator.js';
export * from './event.js';
export * from './graph.js';
export * from './info.js';
export * from './jpeg.js';
export * from './nccl.js';
export * from './openmp_env.js';
export * from './process.js';
export * from './profile.js';
export * from './ptxas.js';
export * from './resample.js';
export * from './stream.js';
export * from './tensor.js';
