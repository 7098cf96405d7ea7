// recon.ts: the reconstruction figure of the paper: one row per image, columns original | masked |
// reconstruction | reconstruction with the visible patches pasted back. pred is [N, L, p*p*C] in the
// official patchify order 'nhwpqc'; with norm_pix_loss it is in normalised-patch units and is
// mapped back with the target patch's mean and (unbiased) variance, as the official visualisation
// does. Images are de-normalised with the dataset's mean/std for display.
import { blankImage, type RasterImage } from './png.js';

export interface ReconInput {
  /** normalised images [N, C, H, W] */
  imgs: Float32Array;
  /** [N, L, p*p*C] */
  pred: Float32Array;
  /** [N, L], 1 = removed */
  mask: Float32Array;
  N: number;
  C: number;
  /** image side (square images) */
  size: number;
  patch: number;
  normPixLoss: boolean;
  mean: readonly number[];
  std: readonly number[];
}

/** Calls f(imageOffset, patchOffset) for every pixel: [N, C, H, W] <-> [N, L, p*p*C] ('nhwpqc'). */
function forEachPixel(
  N: number,
  C: number,
  size: number,
  p: number,
  f: (img: number, patch: number) => void,
): void {
  const G = size / p;
  const L = G * G;
  const P = p * p * C;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < G; h++)
      for (let w = 0; w < G; w++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++)
            for (let c = 0; c < C; c++)
              f(
                ((n * C + c) * size + h * p + i) * size + w * p + j,
                (n * L + h * G + w) * P + (i * p + j) * C + c,
              );
}

/** [N, C, H, W] images from [N, L, p*p*C] patches ('nhwpqc', the inverse of patchify). */
export function unpatchify(
  patches: Float32Array,
  N: number,
  C: number,
  size: number,
  p: number,
): Float32Array {
  const out = new Float32Array(N * C * size * size);
  forEachPixel(N, C, size, p, (img, patch) => {
    out[img] = patches[patch]!;
  });
  return out;
}

/** [N, L, p*p*C] patches of [N, C, H, W] images (the official patchify). */
export function patchify(imgs: Float32Array, N: number, C: number, size: number, p: number): Float32Array {
  const out = new Float32Array(imgs.length);
  forEachPixel(N, C, size, p, (img, patch) => {
    out[patch] = imgs[img]!;
  });
  return out;
}

/** pred mapped back from normalised-patch units: pred * sqrt(var + 1e-6) + mean of the target patch. */
export function denormPixPred(pred: Float32Array, target: Float32Array, P: number): Float32Array {
  const out = new Float32Array(pred.length);
  for (let r = 0; r < pred.length / P; r++) {
    let mean = 0;
    for (let k = 0; k < P; k++) mean += target[r * P + k]!;
    mean /= P;
    let ss = 0;
    for (let k = 0; k < P; k++) ss += (target[r * P + k]! - mean) ** 2;
    const sd = Math.sqrt(ss / Math.max(P - 1, 1) + 1e-6);
    for (let k = 0; k < P; k++) out[r * P + k] = pred[r * P + k]! * sd + mean;
  }
  return out;
}

/** The grey (in [0, 1]) a removed patch is drawn in. */
export const MASK_GREY = 0.5;

/** The four-column figure; `scale` repeats each pixel, `gap` pixels of white between cells. */
export function reconstructionGrid(r: ReconInput, scale = 3, gap = 4): RasterImage {
  const { N, C, size, patch: p } = r;
  const G = size / p;
  const L = G * G;
  const P = p * p * C;
  const predImgs = unpatchify(
    r.normPixLoss ? denormPixPred(r.pred, patchify(r.imgs, N, C, size, p), P) : r.pred,
    N,
    C,
    size,
    p,
  );
  const cell = size * scale;
  const width = 4 * cell + 5 * gap;
  const height = N * cell + (N + 1) * gap;
  const img = blankImage(width, height, [255, 255, 255]);
  const removed = (n: number, y: number, x: number) =>
    r.mask[n * L + Math.floor(y / p) * G + Math.floor(x / p)]! > 0.5;
  // display value in [0, 1] of column col, image n, channel c, pixel (y, x)
  const value = (col: number, n: number, c: number, y: number, x: number): number => {
    const at = ((n * C + c) * size + y) * size + x;
    const orig = r.imgs[at]!;
    const rec = predImgs[at]!;
    let v: number;
    if (col === 0) v = orig;
    else if (col === 1) {
      if (removed(n, y, x)) return MASK_GREY;
      v = orig;
    } else if (col === 2) v = rec;
    else v = removed(n, y, x) ? rec : orig;
    return v * r.std[c]! + r.mean[c]!;
  };
  for (let n = 0; n < N; n++)
    for (let col = 0; col < 4; col++) {
      const x0 = gap + col * (cell + gap);
      const y0 = gap + n * (cell + gap);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const rgb = [0, 1, 2].map((k) => {
            const v = value(col, n, C === 3 ? k : 0, y, x);
            return Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
          });
          for (let dy = 0; dy < scale; dy++)
            for (let dx = 0; dx < scale; dx++)
              img.pixels.set(rgb, ((y0 + y * scale + dy) * width + x0 + x * scale + dx) * 3);
        }
    }
  return img;
}
