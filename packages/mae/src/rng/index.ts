// index.ts: the rng folder: Philox4x32-10, the masking noise mapping, sequential init streams.
export * from './noise.js';
export * from './philox.js';
export * from './seed.js';
export * from './stream.js';
