// crop.ts: torchvision's RandomResizedCrop.get_params, transcribed line for line, with every random
// number drawn from a caller's `uniform()` (u in [0, 1)) instead of torch's generator:
//   U(a, b)       = a + (b - a) * u
//   randint(0, n) = floor(u * n)                                  (an integer in [0, n))
// Draw order: for each of at most 10 tries, u_scale then u_ratio; on the first accepted try, u_top
// then u_left. The centre-crop fallback draws nothing more. Arithmetic is float64 throughout (torch
// keeps log_ratio and the samples in float32; that changes no crop beyond what replacing torch's
// bits already changes), and Python's round() (half to even) is reproduced.

/** A crop box in pixels of the source image (torchvision's i, j, h, w). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Python 3's round() of a float: to the nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** torch.randint(0, n) from one uniform: floor(u * n), kept below n. */
export function randint(n: number, u: number): number {
  return Math.min(n - 1, Math.floor(u * n));
}

function checkArgs(width: number, height: number, scale: readonly number[], ratio: readonly number[]): void {
  for (const [what, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`crop: ${what} must be a positive integer, got ${v}`);
  }
  if (!(scale[0] > 0 && scale[0] <= scale[1] && Number.isFinite(scale[1]))) {
    throw new RangeError(`crop: scale must be 0 < min <= max, got [${scale}]`);
  }
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1] && Number.isFinite(ratio[1]))) {
    throw new RangeError(`crop: ratio must be 0 < min <= max, got [${ratio}]`);
  }
}

/** The whole image, or its centre cut to the nearest allowed aspect ratio (torchvision's fallback). */
function centreCrop(width: number, height: number, ratio: readonly [number, number]): CropBox {
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * RandomResizedCrop.get_params for an image of width x height: a box of area in `scale` times the
 * image's and aspect ratio (w / h) log-uniform in `ratio`, placed uniformly; after 10 rejected tries,
 * the centre crop.
 */
export function cropParams(
  width: number,
  height: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  uniform: () => number,
): CropBox {
  checkArgs(width, height, scale, ratio);
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * uniform());
    const aspect = Math.exp(logLo + (logHi - logLo) * uniform());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = randint(height - h + 1, uniform());
      const left = randint(width - w + 1, uniform());
      return { top, left, height: h, width: w };
    }
  }
  return centreCrop(width, height, ratio);
}
