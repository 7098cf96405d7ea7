// jpeg.ts: the addon's JPEG decoder (src/addon/jpeg.cpp, libjpeg-turbo) for the data loader: the
// header of a JPEG and the RGB pixels of one crop box, as PIL decodes them. Present when the addon
// was built with libjpeg (jpegAvailable()); the loader falls back to sharp otherwise. Synchronous,
// on the calling thread (worker threads too).
import { binding } from './binding.js';

/** A JPEG's colour space as stored (libjpeg's jpeg_color_space). */
export type JpegColorSpace = 'grey' | 'ycbcr' | 'rgb' | 'cmyk' | 'ycck' | 'unknown';

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  colorSpace: JpegColorSpace;
}

/** Whether this build of the addon decodes JPEGs (CMake found libjpeg). */
export function jpegAvailable(): boolean {
  return binding.jpegAvailable();
}

/** The header of a JPEG file's bytes. Throws an Error ("jpeg: ...") for data libjpeg refuses. */
export function jpegHeader(bytes: Uint8Array): JpegHeader {
  return binding.jpegHeader(bytes) as JpegHeader;
}

/**
 * The RGB pixels (HWC, width * height * 3 bytes) of the box at (left, top) of a grey, YCbCr or RGB
 * JPEG, equal to PIL's `Image.open(f).convert('RGB').crop(box)`. The whole file is read: a
 * truncated or corrupt one throws an Error ("jpeg: ...") whatever the box; a box outside the image
 * throws a RangeError; CMYK and YCCK files throw (use sharp for them).
 */
export function jpegDecodeRegion(
  bytes: Uint8Array,
  left: number,
  top: number,
  width: number,
  height: number,
): Uint8Array {
  return binding.jpegDecodeRegion(bytes, left, top, width, height);
}
