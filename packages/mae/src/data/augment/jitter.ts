// jitter.ts: torchvision's ColorJitter(brightness=s, contrast=s, saturation=s) on uint8 HWC pixels,
// as it runs on a PIL image (functional_pil.adjust_*: PIL's ImageEnhance, Pillow 9.4):
//   brightness  Image.blend(black, img, f)
//   contrast    Image.blend(grey(m), img, f), m = int(mean of img.convert('L') + 0.5)
//   saturation  Image.blend(img.convert('L') as RGB, img, f) (grey images: unchanged)
// where blend(a, b, f) = a + f * (b - a) per byte in float32 (libImaging/Blend.c: alpha is a C
// float), truncated to an integer and, when f is outside [0, 1], clipped to [0, 255] first.
// Parameters (get_params) from the caller's uniforms: the order of the three adjustments, a
// permutation drawn by Fisher-Yates (for i = 2, 1: swap p[i] with p[randint(0, i + 1)]; torchvision
// draws randperm(4) with hue's slot unused, which orders the other three uniformly too), then the
// factors brightness, contrast, saturation, each U(max(0, 1 - s), 1 + s), in that order.
import { rgbToLuma } from './convert.js';
import { randint } from './crop.js';

export interface JitterParams {
  /** the adjustments in the order applied: 0 brightness, 1 contrast, 2 saturation */
  order: [number, number, number];
  brightness: number;
  contrast: number;
  saturation: number;
}

/** ColorJitter.get_params for strength s on the caller's uniforms (see the header). */
export function jitterParams(s: number, uniform: () => number): JitterParams {
  const order: [number, number, number] = [0, 1, 2];
  for (let i = 2; i > 0; i--) {
    const j = randint(i + 1, uniform());
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const lo = Math.max(0, 1 - s);
  const factor = () => lo + (1 + s - lo) * uniform();
  const brightness = factor();
  const contrast = factor();
  const saturation = factor();
  return { order, brightness, contrast, saturation };
}

/** Image.blend(degenerate, img, f) in place, degenerate(i) giving the byte blended from at i. */
function blend(px: Uint8Array, f: number, degenerate: (i: number) => number): void {
  const a = Math.fround(f);
  for (let i = 0; i < px.length; i++) {
    const d = degenerate(i);
    const v = Math.fround(d + Math.fround(a * (px[i]! - d)));
    px[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
}

/** The luma (convert('L')) of each pixel of an HWC image with C channels. */
function luma(px: Uint8Array, C: number): Uint8Array {
  return C === 1 ? px.slice() : rgbToLuma(px);
}

function adjust(px: Uint8Array, C: number, which: number, f: number): void {
  if (which === 0) blend(px, f, () => 0);
  else if (which === 1) {
    const L = luma(px, C);
    let sum = 0;
    for (const v of L) sum += v;
    const mean = Math.trunc(sum / L.length + 0.5);
    blend(px, f, () => mean);
  } else if (C === 3) {
    const L = luma(px, C);
    blend(px, f, (i) => L[Math.trunc(i / 3)]!);
  }
}

/** ColorJitter with `p` on an HWC uint8 image with C (1 or 3) channels, in place. */
export function applyJitter(px: Uint8Array, C: number, p: JitterParams): Uint8Array {
  const factors = [p.brightness, p.contrast, p.saturation];
  for (const which of p.order) adjust(px, C, which, factors[which]!);
  return px;
}
