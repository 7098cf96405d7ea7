// resample.ts: resizeBicubicU8, PIL's Image.resize(BICUBIC) for 8-bit HWC images in the addon
// (src/addon/resample.cpp), byte for byte the TypeScript transcription resizeBicubicReference of
// @mae-cuda/mae (data/augment/resample.ts). Synchronous, on the calling thread (worker threads too).
import { binding } from './binding.js';

/**
 * PIL's `img.resize((dstWidth, dstHeight), Image.BICUBIC)` of an 8-bit HWC image with `channels`
 * (1 to 4) channels; `src` holds width * height * channels bytes. Returns a new array (a copy at
 * the same size). Throws a TypeError for sizes that are not integers >= 1, a RangeError for a wrong
 * buffer length.
 */
export function resizeBicubicU8(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  dstWidth: number,
  dstHeight: number,
): Uint8Array {
  return binding.resizeBicubicU8(src, width, height, channels, dstWidth, dstHeight);
}
