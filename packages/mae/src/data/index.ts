// index.ts: the data folder: in-memory image datasets, the shipped MNIST digits, epoch order and batching,
// and image sources on disk (image folders, tar shards, idx, CIFAR).

export * from './augment/index.js';
export * from './dataset.js';
export * from './loader.js';
export * from './mnist.js';
export * from './pipeline/index.js';
export * from './sources/index.js';
