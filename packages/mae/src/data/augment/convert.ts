// convert.ts: PIL's mode conversions on 8-bit interleaved pixels, integer for integer (Pillow's
// libImaging/Convert.c), so a decoded image becomes what torchvision's loader, `.convert('RGB')`,
// and then `.convert('L')` for one channel, would give:
//   grey -> RGB     the value in all three channels
//   alpha           dropped, not composited (rgba2rgb copies the colour channels)
//   CMYK -> RGB     nk = 255 - K; R = clip(nk - muldiv255(C, nk)), likewise G from M and B from Y
//                   with muldiv255(a, b) = ((t >> 8) + t) >> 8, t = a * b + 128
//   RGB -> L        (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16  (ITU-R 601-2 luma)

/** How the decoder's channels are to be read. */
export type PixelSpace = 'rgb' | 'cmyk';

function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

function clip8(v: number): number {
  return Math.max(0, Math.min(255, v));
}

/** CMYK (4 channels, not inverted) to RGB as PIL's cmyk2rgb. */
function cmykToRgb(src: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const nk = 255 - src[4 * p + 3];
    for (let c = 0; c < 3; c++) out[3 * p + c] = clip8(nk - muldiv255(src[4 * p + c], nk));
  }
  return out;
}

/**
 * 8-bit pixels with `channels` interleaved channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK)
 * to RGB, as PIL's convert('RGB').
 */
export function toRgb(src: Uint8Array, pixels: number, channels: number, space: PixelSpace): Uint8Array {
  if (src.length !== pixels * channels) {
    throw new RangeError(`toRgb: ${src.length} bytes for ${pixels} pixels of ${channels} channels`);
  }
  if (space === 'cmyk') {
    if (channels !== 4) throw new RangeError(`toRgb: CMYK needs 4 channels, got ${channels}`);
    return cmykToRgb(src, pixels);
  }
  if (channels === 3) return src;
  if (channels < 1 || channels > 4) throw new RangeError(`toRgb: unsupported channel count ${channels}`);
  const out = new Uint8Array(pixels * 3);
  const colour = channels >= 3;
  for (let p = 0; p < pixels; p++) {
    const s = p * channels;
    out[3 * p] = src[s];
    out[3 * p + 1] = colour ? src[s + 1] : src[s];
    out[3 * p + 2] = colour ? src[s + 2] : src[s];
  }
  return out;
}

/** RGB to grey as PIL's convert('L'). */
export function rgbToLuma(rgb: Uint8Array): Uint8Array {
  const pixels = rgb.length / 3;
  const out = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    out[p] = (rgb[3 * p] * 19595 + rgb[3 * p + 1] * 38470 + rgb[3 * p + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}
