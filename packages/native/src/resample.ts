// resample.ts: resizeBicubicU8 and cropResizeBicubicU8, PIL's Image.resize(BICUBIC) for 8-bit HWC images in the addon
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

/** A crop box in pixels. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * `resizeBicubicU8` of the `box` of `src` (width x height x channels bytes, HWC), written into
 * `dst` (dstWidth * dstHeight * channels bytes) and mirrored left to right when `flip`: the
 * loader's crop, resize and flip in one pass, without intermediate arrays. Throws a TypeError for
 * sizes that are not integers in range (the box inside the image), a RangeError for wrong lengths.
 */
export function cropResizeBicubicU8(
  dst: Uint8Array,
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  box: PixelBox,
  dstWidth: number,
  dstHeight: number,
  flip: boolean,
): void {
  binding.cropResizeBicubicU8(
    dst,
    src,
    width,
    height,
    channels,
    box.left,
    box.top,
    box.width,
    box.height,
    dstWidth,
    dstHeight,
    flip,
  );
}
