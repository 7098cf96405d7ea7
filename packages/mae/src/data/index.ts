// index.ts: the data folder: in-memory image datasets, the shipped MNIST digits, epoch order and batching.
export * from './dataset.js';
export * from './loader.js';
export * from './mnist.js';
