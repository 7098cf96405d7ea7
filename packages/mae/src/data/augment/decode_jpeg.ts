// decode_jpeg.ts: the JPEG fast path of decode.ts: header and crop box decoded by the addon's
// libjpeg-turbo decoder (@mae-cuda/native jpeg.ts) on the calling thread, without libvips' pipeline
// set-up: equal byte for byte to sharp's decode and PIL's (decode.test.ts checks both), a few times
// cheaper per image. Used for grey, YCbCr and RGB JPEGs when the addon has libjpeg; CMYK and YCCK
// JPEGs, other formats, and MAE_JPEG_DECODER=sharp take the sharp path.
import { jpegAvailable, jpegDecodeRegion, jpegHeader } from '@mae-cuda/native';
import type { CropBox } from './crop.js';

/** The decoders a JPEG can go through; 'libjpeg' when the addon has it unless the env says sharp. */
export function jpegDecoder(env: NodeJS.ProcessEnv = process.env): 'libjpeg' | 'sharp' {
  const forced = env.MAE_JPEG_DECODER;
  if (forced !== undefined && forced !== '' && forced !== 'libjpeg' && forced !== 'sharp') {
    throw new Error(`MAE_JPEG_DECODER must be libjpeg or sharp, got ${JSON.stringify(forced)}`);
  }
  if (forced === 'sharp') return 'sharp';
  const have = jpegAvailable();
  if (forced === 'libjpeg' && !have) {
    throw new Error('MAE_JPEG_DECODER=libjpeg, but the native addon was built without libjpeg');
  }
  return have ? 'libjpeg' : 'sharp';
}

let decoder: 'libjpeg' | 'sharp' | undefined;

/** Whether `bytes` start like a JPEG (SOI then a marker). */
function looksJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * The stored size of a JPEG that the libjpeg path decodes, or undefined when the sharp path must
 * (no libjpeg, not a JPEG, CMYK or YCCK). Throws libjpeg's message for a JPEG it cannot read.
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  decoder ??= jpegDecoder();
  if (decoder !== 'libjpeg' || !looksJpeg(bytes)) return undefined;
  const h = jpegHeader(bytes);
  if (h.colorSpace === 'cmyk' || h.colorSpace === 'ycck' || h.colorSpace === 'unknown') return undefined;
  return { width: h.width, height: h.height };
}

/** The RGB pixels (HWC) of `box` in a JPEG that jpegSize accepted. */
export function jpegRegion(bytes: Uint8Array, box: CropBox): Uint8Array {
  return jpegDecodeRegion(bytes, box.left, box.top, box.width, box.height);
}
