// pixels.ts: crop and mirror of 8-bit HWC pixel arrays.
import type { CropBox } from './crop.js';

/** The `box` of an HWC image `width` pixels wide with `ch` channels, as a new array. */
export function cropHwc(src: Uint8Array, width: number, ch: number, box: CropBox): Uint8Array {
  const out = new Uint8Array(box.width * box.height * ch);
  const rowBytes = box.width * ch;
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * width + box.left) * ch;
    out.set(src.subarray(from, from + rowBytes), y * rowBytes);
  }
  return out;
}

/** Mirrors an HWC image left to right in place (torchvision's hflip). */
export function flipHwc(px: Uint8Array, width: number, height: number, ch: number): Uint8Array {
  for (let y = 0; y < height; y++) {
    const row = y * width * ch;
    for (let l = 0, r = width - 1; l < r; l++, r--) {
      for (let c = 0; c < ch; c++) {
        const a = row + l * ch + c;
        const b = row + r * ch + c;
        const t = px[a];
        px[a] = px[b];
        px[b] = t;
      }
    }
  }
  return px;
}
