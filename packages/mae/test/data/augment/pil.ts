// pil.ts: RandAugment's image operations run by Pillow itself under /usr/bin/python3 (ImageOps,
// ImageEnhance, Image.transform AFFINE and Image.rotate with bicubic resampling and a fill colour,
// and timm's solarize_add, a point table), and random test images for them.
import { sampleRandom } from '../../../src/data/augment/random.js';
import { runPython } from './python.js';

export interface PilCase {
  op: string;
  C: 1 | 3;
  w: number;
  h: number;
  px: number[];
  args: number[];
  fill?: number[];
}

const PIL_PY = `
import json, sys
from PIL import Image, ImageOps, ImageEnhance
BICUBIC = Image.Resampling.BICUBIC
def solarize_add(im, add, thresh=128):
    table = [min(255, v + add) if v < thresh else v for v in range(256)]
    return im.point(table * len(im.getbands()))
OPS = {
    'autocontrast': lambda im, a, f: ImageOps.autocontrast(im),
    'equalize': lambda im, a, f: ImageOps.equalize(im),
    'invert': lambda im, a, f: ImageOps.invert(im),
    'posterize': lambda im, a, f: im if a[0] >= 8 else ImageOps.posterize(im, a[0]),
    'solarize': lambda im, a, f: ImageOps.solarize(im, a[0]),
    'solarizeAdd': lambda im, a, f: solarize_add(im, a[0]),
    'color': lambda im, a, f: ImageEnhance.Color(im).enhance(a[0]),
    'contrast': lambda im, a, f: ImageEnhance.Contrast(im).enhance(a[0]),
    'brightness': lambda im, a, f: ImageEnhance.Brightness(im).enhance(a[0]),
    'sharpness': lambda im, a, f: ImageEnhance.Sharpness(im).enhance(a[0]),
    'affine': lambda im, a, f: im.transform(im.size, Image.Transform.AFFINE, tuple(a), resample=BICUBIC, fillcolor=f),
    'rotate': lambda im, a, f: im.rotate(a[0], resample=BICUBIC, fillcolor=f),
}
out = []
for c in json.load(sys.stdin):
    im = Image.frombytes('RGB' if c['C'] == 3 else 'L', (c['w'], c['h']), bytes(c['px']))
    fill = tuple(c['fill']) if 'fill' in c else None
    out.append(list(OPS[c['op']](im, c['args'], fill).tobytes()))
print(json.dumps(out))
`;

/** Each case's result as Pillow computes it (HWC bytes). */
export function pilApply(cases: PilCase[]): number[][] {
  return JSON.parse(runPython(PIL_PY, [], JSON.stringify(cases)).toString()) as number[][];
}

/**
 * A w x h image with C channels of kind k % 4: uniform noise, a smooth ramp with noise, a few grey
 * levels (histogram edge cases), or a narrow band of values (contrast stretching).
 */
export function testImage(k: number, w: number, h: number, C: number): number[] {
  const u = sampleRandom(k, 3, 5);
  const n = w * h * C;
  const kind = k % 4;
  return Array.from({ length: n }, (_, i) => {
    const p = Math.floor(i / C);
    const [x, y] = [p % w, Math.floor(p / w)];
    if (kind === 0) return Math.floor(256 * u());
    if (kind === 1) return Math.min(255, Math.floor((x * 255) / w / 2 + (y * 255) / h / 2 + 24 * u()));
    if (kind === 2) return [0, 90, 91, 255][Math.floor(4 * u())]! >> (i % C);
    return 100 + Math.floor(30 * u());
  });
}

/** The sizes tried: 1 x 1 and 2 x 3 (below the 3 x 3 filter), odd, square and MNIST's. */
export const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [3, 3],
  [7, 5],
  [13, 9],
  [28, 28],
  [31, 17],
];
