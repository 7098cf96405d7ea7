// data/sharp.ts: sharp (libvips) as `mae-cuda data` reads image headers with it.
import sharp from 'sharp';

/** The fields of sharp's metadata() that the header scan reads. */
export type ImageMetadata = Partial<
  Pick<
    sharp.Metadata,
    'format' | 'width' | 'height' | 'channels' | 'space' | 'depth' | 'isPalette' | 'hasAlpha'
  >
>;

/** sharp itself (kept as a function so the scan and its tests share one entry). */
export function loadSharp(): typeof sharp {
  return sharp;
}
