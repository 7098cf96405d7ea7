// index.ts: benchmarks of the training step (FLOP counting, timing).
export * from './flops.js';
export * from './kernels.js';
export * from './run.js';
