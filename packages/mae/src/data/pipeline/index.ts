// index.ts: the input pipeline: the worker pool that decodes and augments batches, and prefetching.
export * from './loader.js';
export * from './messages.js';
export * from './prefetch.js';
export * from './streamed.js';
export * from './substitute.js';
