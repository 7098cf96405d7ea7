// index.ts: benchmarks of the training step (FLOP counting, timing).
export * from './flops.js';
export * from './run.js';
