// jitter.ts: torchvision's ColorJitter(brightness=s, contrast=s, saturation=s) on uint8 HWC pixels,
// as it runs on a PIL image (functional_pil.adjust_*: PIL's ImageEnhance, Pillow 9.4):
//   brightness  Image.blend(black, img, f)
//   contrast    Image.blend(grey(m), img, f), m = int(mean of img.convert('L') + 0.5)
//   saturation  Image.blend(img.convert('L') as RGB, img, f) (grey images: unchanged)
// where blend(a, b, f) = a + f * (b - a) per byte in float32 (enhance.ts, libImaging/Blend.c).
// Parameters (get_params) from the caller's uniforms: the order of the three adjustments, a
// permutation drawn by Fisher-Yates (for i = 2, 1: swap p[i] with p[randint(0, i + 1)]; torchvision
// draws randperm(4) with hue's slot unused, which orders the other three uniformly too), then the
// factors brightness, contrast, saturation, each U(max(0, 1 - s), 1 + s), in that order.
import { randint } from './crop.js';
import { enhanceBrightness, enhanceColor, enhanceContrast } from './enhance.js';

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

const ADJUST = [enhanceBrightness, enhanceContrast, enhanceColor] as const;

/** ColorJitter with `p` on an HWC uint8 image with C (1 or 3) channels, in place. */
export function applyJitter(px: Uint8Array, C: number, p: JitterParams): Uint8Array {
  const factors = [p.brightness, p.contrast, p.saturation];
  for (const which of p.order) ADJUST[which]!(px, C, factors[which]!);
  return px;
}
