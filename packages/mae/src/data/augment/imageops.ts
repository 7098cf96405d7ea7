// imageops.ts: the per-pixel lookup-table operations of timm's RandAugment on 8-bit HWC images with
// 1 ('L') or 3 ('RGB') channels, as Pillow 9.4 computes them (PIL/ImageOps.py, and timm's own
// solarize_add); every table is clipped to [0, 255] as Image.point does (CLIP8) and applied to each
// channel with that channel's table:
//   autocontrast   per channel: lo, hi = the lowest and highest value present; hi <= lo: identity;
//                  else scale = 255 / (hi - lo), offset = -lo * scale, v -> int(v * scale + offset)
//   equalize       per channel: histo = the non-zero counts; one: identity; else step =
//                  (sum(histo) - histo[-1]) // 255; 0: identity; else n = step // 2 and v -> n // step,
//                  n += h[v] after each v
//   invert         v -> 255 - v
//   posterize(b)   v -> v & ~(2^(8 - b) - 1) (timm: b >= 8 leaves the image as it is)
//   solarize(t)    v -> v < t ? v : 255 - v
//   solarizeAdd(a) v -> v < 128 ? min(255, v + a) : v (timm's solarize_add, threshold 128)

/** Applies one table per channel (or one for all) to an HWC image in place. */
function applyLuts(px: Uint8Array, C: number, luts: readonly Uint8Array[]): Uint8Array {
  for (let i = 0; i < px.length; i++) px[i] = luts[luts.length === 1 ? 0 : i % C]![px[i]!]!;
  return px;
}

/** A table from a function of the value, clipped to [0, 255]. */
function lut(f: (v: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const y = f(v);
    t[v] = Math.max(0, Math.min(255, y));
  }
  return t;
}

/** Image.histogram(): one 256-bin count per channel. */
function histograms(px: Uint8Array, C: number): Float64Array[] {
  const h = Array.from({ length: C }, () => new Float64Array(256));
  for (let i = 0; i < px.length; i++) h[i % C]![px[i]!]!++;
  return h;
}

function autocontrastLut(h: Float64Array): Uint8Array {
  let lo = 0;
  while (lo < 255 && !h[lo]) lo++;
  let hi = 255;
  while (hi > 0 && !h[hi]) hi--;
  if (hi <= lo) return lut((v) => v);
  const scale = 255.0 / (hi - lo);
  const offset = -lo * scale;
  return lut((v) => Math.trunc(v * scale + offset));
}

function equalizeLut(h: Float64Array): Uint8Array {
  const histo = Array.from(h).filter((c) => c);
  if (histo.length <= 1) return lut((v) => v);
  const step = Math.floor((histo.reduce((a, b) => a + b, 0) - histo[histo.length - 1]!) / 255);
  if (!step) return lut((v) => v);
  let n = Math.floor(step / 2);
  return lut((v) => {
    const y = Math.floor(n / step);
    n += h[v]!;
    return y;
  });
}

/** ImageOps.autocontrast(img) in place. */
export function autocontrast(px: Uint8Array, C: number): Uint8Array {
  return applyLuts(px, C, histograms(px, C).map(autocontrastLut));
}

/** ImageOps.equalize(img) in place. */
export function equalize(px: Uint8Array, C: number): Uint8Array {
  return applyLuts(px, C, histograms(px, C).map(equalizeLut));
}

/** ImageOps.invert(img) in place. */
export function invert(px: Uint8Array, C: number): Uint8Array {
  return applyLuts(px, C, [lut((v) => 255 - v)]);
}

/** timm's posterize(img, bits): ImageOps.posterize, or the image as it is for bits >= 8; in place. */
export function posterize(px: Uint8Array, C: number, bits: number): Uint8Array {
  if (bits >= 8) return px;
  const mask = ~(2 ** (8 - bits) - 1);
  return applyLuts(px, C, [lut((v) => v & mask)]);
}

/** ImageOps.solarize(img, threshold) in place. */
export function solarize(px: Uint8Array, C: number, threshold: number): Uint8Array {
  return applyLuts(px, C, [lut((v) => (v < threshold ? v : 255 - v))]);
}

/** timm's solarize_add(img, add, thresh=128) in place. */
export function solarizeAdd(px: Uint8Array, C: number, add: number, threshold = 128): Uint8Array {
  return applyLuts(px, C, [lut((v) => (v < threshold ? Math.min(255, v + add) : v))]);
}
