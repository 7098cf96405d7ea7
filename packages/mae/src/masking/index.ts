// index.ts: the masking folder: per-row argsort and the official random_masking.
export * from './argsort.js';
export * from './device.js';
export * from './random_masking.js';
