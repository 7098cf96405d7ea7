// index.ts: the augment folder: decoding, the official MAE pretraining augmentation and the
// ablation's others (modes.ts), and fine-tuning's RandAugment and random erasing.
export * from './affine.js';
export * from './augment.js';
export * from './convert.js';
export * from './crop.js';
export * from './decode.js';
export { jpegDecoder } from './decode_jpeg.js';
export * from './enhance.js';
export * from './erasing.js';
export * from './imageops.js';
export * from './jitter.js';
export * from './modes.js';
export * from './netpbm.js';
export * from './pixels.js';
export * from './pyrandom.js';
export * from './randaugment.js';
export * from './randaugment_config.js';
export * from './random.js';
export * from './resample.js';
export * from './resize_crop.js';
