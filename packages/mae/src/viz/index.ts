// index.ts: the viz folder: a small PNG encoder, the reconstruction figure, the mask sampling
// figure, the loss plot and the series plot (on shared axes).
export * from './axes.js';
export * from './masks.js';
export * from './plot.js';
export * from './png.js';
export * from './recon.js';
export * from './series.js';
