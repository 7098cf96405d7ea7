// index.ts: the augment folder: decoding, the official MAE pretraining augmentation and the
// ablation's others (modes.ts).
export * from './augment.js';
export * from './convert.js';
export * from './crop.js';
export * from './decode.js';
export { jpegDecoder } from './decode_jpeg.js';
export * from './jitter.js';
export * from './modes.js';
export * from './netpbm.js';
export * from './pixels.js';
export * from './random.js';
export * from './resample.js';
export * from './resize_crop.js';
