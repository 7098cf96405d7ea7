// resize_crop.ts: torchvision's Resize(size) (an int: the short side to `size`, the long side
// int(size * long / short), functional._compute_resized_output_size) with PIL's bicubic filter,
// then RandomCrop(S) (top = randint(0, h - S + 1), then left = randint(0, w - S + 1)) or
// CenterCrop(S) (top = int(round((h - S) / 2)), left likewise, Python's round), then the flip when
// drawn. randint over the caller's uniforms as crop.ts (floor(u * n)).
import { cropResizeBicubicU8 } from '@mae-cuda/native';
import { type CropBox, randint, roundHalfEven } from './crop.js';
import { cropHwc, flipHwc } from './pixels.js';

/** torchvision's Resize(size) output [width, height] for a width x height image. */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? [size, newLong] : [newLong, size];
}

/** RandomCrop.get_params of an S x S crop of a width x height image (two draws: top, then left). */
export function randomCropBox(width: number, height: number, S: number, uniform: () => number): CropBox {
  if (width < S || height < S) throw new RangeError(`crop: ${S}x${S} does not fit in ${width}x${height}`);
  const top = randint(height - S + 1, uniform());
  const left = randint(width - S + 1, uniform());
  return { top, left, height: S, width: S };
}

/** CenterCrop's S x S box of a width x height image. */
export function centerCropBox(width: number, height: number, S: number): CropBox {
  if (width < S || height < S) throw new RangeError(`crop: ${S}x${S} does not fit in ${width}x${height}`);
  return { top: roundHalfEven((height - S) / 2), left: roundHalfEven((width - S) / 2), height: S, width: S };
}

export interface ResizeCrop {
  /** the short side after the resize */
  resize: number;
  /** S, the output side */
  size: number;
  kind: 'random' | 'center';
  flip: boolean;
}

/** The whole HWC image resized (short side r.resize) and cropped S x S into `dst`, flipped when asked. */
export function resizeThenCrop(
  dst: Uint8Array,
  px: Uint8Array,
  width: number,
  height: number,
  C: number,
  r: ResizeCrop,
  uniform: () => number,
): Uint8Array {
  const [w, h] = resizedSize(width, height, r.resize);
  const resized = new Uint8Array(w * h * C);
  cropResizeBicubicU8(resized, px, width, height, C, { left: 0, top: 0, width, height }, w, h, false);
  const box = r.kind === 'random' ? randomCropBox(w, h, r.size, uniform) : centerCropBox(w, h, r.size);
  dst.set(cropHwc(resized, w, C, box));
  if (r.flip) flipHwc(dst, r.size, r.size, C);
  return dst;
}
