// index.ts: benchmarks of the training step (FLOP counting, memory estimate, timing).
export * from './flops.js';
export * from './gemm.js';
export * from './kernels.js';
export * from './memory.js';
export * from './run.js';
