// enhance.ts: PIL's ImageEnhance (Pillow 9.4) on 8-bit HWC images with 1 ('L') or 3 ('RGB')
// channels: enhance(f) = Image.blend(degenerate, img, f), where the degenerate image is
//   Color       img.convert('L') as RGB (an 'L' image is its own: unchanged)
//   Contrast    grey m = int(mean of img.convert('L') + 0.5)
//   Brightness  black
//   Sharpness   img.filter(ImageFilter.SMOOTH)
// blend(a, b, f) = a + f * (b - a) per byte in float32 (libImaging/Blend.c: alpha is a C float),
// truncated to an integer and, when f is outside [0, 1], clipped to [0, 255] first. SMOOTH is the
// 3 x 3 kernel (1 1 1 / 1 5 1 / 1 1 1) / 13 (libImaging/Filter.c ImagingFilter3x3, in float32: each
// weight float32(k / 13), ss = 0.5 + row y+1 + row y + row y-1, each row's sum (l * k0 + c * k1) + r *
// k2 in float32, the result clipped to [0, 255] and truncated); the outermost rows and columns are
// copied, and an image narrower or lower than 3 pixels is copied whole.
import { rgbToLuma } from './convert.js';

/** Image.blend(degenerate, img, f) in place, degenerate(i) giving the byte blended from at i. */
export function blend(px: Uint8Array, f: number, degenerate: (i: number) => number): Uint8Array {
  const a = Math.fround(f);
  for (let i = 0; i < px.length; i++) {
    const d = degenerate(i);
    const v = Math.fround(d + Math.fround(a * (px[i]! - d)));
    px[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return px;
}

/** The luma (convert('L')) of each pixel of an HWC image with C channels. */
export function luma(px: Uint8Array, C: number): Uint8Array {
  return C === 1 ? px.slice() : rgbToLuma(px);
}

/** ImageEnhance.Color(img).enhance(f) in place. */
export function enhanceColor(px: Uint8Array, C: number, f: number): Uint8Array {
  if (C === 1) return px;
  const L = luma(px, C);
  return blend(px, f, (i) => L[Math.trunc(i / 3)]!);
}

/** ImageEnhance.Contrast(img).enhance(f) in place. */
export function enhanceContrast(px: Uint8Array, C: number, f: number): Uint8Array {
  const L = luma(px, C);
  let sum = 0;
  for (const v of L) sum += v;
  const mean = Math.trunc(sum / L.length + 0.5);
  return blend(px, f, () => mean);
}

/** ImageEnhance.Brightness(img).enhance(f) in place. */
export function enhanceBrightness(px: Uint8Array, _C: number, f: number): Uint8Array {
  return blend(px, f, () => 0);
}

/** img.filter(ImageFilter.SMOOTH) of a W x H HWC image, as a new array. */
export function smooth(px: Uint8Array, W: number, H: number, C: number): Uint8Array {
  const out = px.slice();
  if (W < 3 || H < 3) return out;
  const k = Math.fround(1 / 13);
  const k5 = Math.fround(5 / 13);
  const f = Math.fround;
  // one row's term: (l * k0 + c * k1) + r * k2, each step rounded to float32
  const row = (at: number, mid: number) => f(f(f(px[at - C]! * k) + f(px[at]! * mid)) + f(px[at + C]! * k));
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      for (let c = 0; c < C; c++) {
        const at = (y * W + x) * C + c;
        let ss = 0.5;
        ss = f(ss + row(at + W * C, k));
        ss = f(ss + row(at, k5));
        ss = f(ss + row(at - W * C, k));
        out[at] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return out;
}

/** ImageEnhance.Sharpness(img).enhance(f) of a W x H HWC image in place. */
export function enhanceSharpness(px: Uint8Array, W: number, H: number, C: number, f: number): Uint8Array {
  const d = smooth(px, W, H, C);
  return blend(px, f, (i) => d[i]!);
}
