// index.ts: image sources for pretraining on real images: an image folder, WebDataset tar shards,
// MNIST idx files or CIFAR binary batches, opened by path (format detected) or reopened from a spec.
export * from './braces.js';
export * from './cifar.js';
export * from './folder.js';
export * from './folder-scan.js';
export * from './idx.js';
export * from './open.js';
export * from './tar.js';
export * from './tar-index.js';
export * from './types.js';
