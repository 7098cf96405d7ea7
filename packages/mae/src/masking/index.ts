// index.ts: the masking folder: per-row argsort, the official random_masking, and the sampling
// strategies (random, block, grid) as per-patch scores.
export * from './argsort.js';
export * from './block.js';
export * from './device.js';
export * from './grid.js';
export * from './random_masking.js';
export * from './sampling.js';
