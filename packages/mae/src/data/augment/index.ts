// index.ts: the augment folder: decoding and the official MAE pretraining augmentation.
export * from './augment.js';
export * from './convert.js';
export * from './crop.js';
export * from './decode.js';
export { jpegDecoder } from './decode_jpeg.js';
export * from './netpbm.js';
export * from './pixels.js';
export * from './random.js';
export * from './resample.js';
