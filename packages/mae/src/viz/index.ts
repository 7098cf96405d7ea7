// index.ts: the viz folder: a small PNG encoder, the reconstruction figure and the loss plot.
export * from './plot.js';
export * from './png.js';
export * from './recon.js';
