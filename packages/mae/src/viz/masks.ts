// masks.ts: the figure of the mask sampling strategies on one image (docs/ABLATIONS.md, "Mask
// sampling"): one row, the image first, then the image under each mask with the removed patches
// grey, as the masked column of the reconstruction figure (recon.ts) draws them.
import { blankImage, type RasterImage } from './png.js';
import { MASK_GREY } from './recon.js';

export interface MaskFigureInput {
  /** RGB pixels, HWC, size x size */
  rgb: Uint8Array;
  size: number;
  patch: number;
  /** [L] per mask, 1 = removed, in the figure's column order */
  masks: Float32Array[];
}

/** The row of cells: the image, then the image under each mask; `gap` white pixels between cells. */
export function maskFigure(f: MaskFigureInput, scale = 1, gap = 4): RasterImage {
  const { rgb, size, patch: p, masks } = f;
  const G = size / p;
  if (!Number.isInteger(G) || rgb.length !== size * size * 3)
    throw new RangeError(
      `maskFigure: ${rgb.length} bytes for a ${size}x${size} RGB image of ${p}-pixel patches`,
    );
  for (const m of masks)
    if (m.length !== G * G)
      throw new RangeError(`maskFigure: a mask of ${m.length} patches, expected ${G * G}`);
  const cell = size * scale;
  const width = (masks.length + 1) * (cell + gap) + gap;
  const img = blankImage(width, cell + 2 * gap, [255, 255, 255]);
  const grey = Math.round(MASK_GREY * 255);
  for (let col = 0; col <= masks.length; col++) {
    const mask = col === 0 ? undefined : masks[col - 1]!;
    const x0 = gap + col * (cell + gap);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const removed = mask !== undefined && mask[Math.floor(y / p) * G + Math.floor(x / p)]! > 0.5;
        const at = (y * size + x) * 3;
        const px = removed ? [grey, grey, grey] : [rgb[at]!, rgb[at + 1]!, rgb[at + 2]!];
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++)
            img.pixels.set(px, ((gap + y * scale + dy) * width + x0 + x * scale + dx) * 3);
      }
  }
  return img;
}
