// index.ts: the viz folder: a small PNG encoder, the reconstruction figure, the mask sampling
// figure and the loss plot.
export * from './masks.js';
export * from './plot.js';
export * from './png.js';
export * from './recon.js';
