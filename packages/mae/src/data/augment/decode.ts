// decode.ts: encoded image bytes (JPEG, PNG, WebP, AVIF, TIFF, GIF's first frame) to the 8-bit RGB
// pixels of one crop box, with sharp (libvips). As torchvision's default loader: no EXIF rotation,
// embedded ICC profiles ignored, colours converted as PIL's convert('RGB') (convert.ts); 16-bit
// samples keep their high byte (PIL does that for 16-bit RGB; for 16-bit grey, Pillow 9 clips to
// 255 instead, which we do not copy). Any failure is a DecodeError naming the sample. JPEGs go
// through the addon's libjpeg decoder when it has one (decode_jpeg.ts): the same pixels, faster.
import sharp from 'sharp';
import { type PixelSpace, toRgb } from './convert.js';
import type { CropBox } from './crop.js';
import { jpegRegion, jpegSize } from './decode_jpeg.js';

/** A sample that could not be decoded: corrupt, truncated, empty, not an image, or too large. */
export class DecodeError extends Error {
  constructor(
    readonly sample: string,
    readonly reason: string,
  ) {
    super(`cannot decode sample ${JSON.stringify(sample)}: ${reason}`);
    this.name = 'DecodeError';
  }
}

/** The stored size and colour space of an encoded image, and the decoder that reads it. */
export interface Header {
  width: number;
  height: number;
  space: PixelSpace;
  decoder: 'libjpeg' | 'sharp';
}

/** A header read by sharp, with everything else it says (format, channels, depth, palette, alpha). */
export interface SharpHeader extends Header {
  metadata: sharp.Metadata;
}

function options(maxPixels: number): sharp.SharpOptions {
  // failOn 'error' refuses truncated and corrupt data but not warnings (common in real data sets).
  return {
    limitInputPixels: maxPixels,
    failOn: 'error',
    animated: false,
    autoOrient: false,
    ignoreIcc: true,
  };
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message.trim() : String(e);
}

function checkPixels(name: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new DecodeError(
      name,
      `${width}x${height} = ${width * height} pixels is over the limit of ${maxPixels}`,
    );
  }
}

/** The header the loader decodes from: libjpeg's for the JPEGs it takes, sharp's otherwise. */
export async function readDecodeHeader(bytes: Uint8Array, name: string, maxPixels: number): Promise<Header> {
  if (bytes.length === 0) throw new DecodeError(name, 'the file is empty (0 bytes)');
  let size: { width: number; height: number } | undefined;
  try {
    size = jpegSize(bytes);
  } catch (e) {
    throw new DecodeError(name, reasonOf(e));
  }
  if (!size) return readHeader(bytes, name, maxPixels);
  checkPixels(name, size.width, size.height, maxPixels);
  return { ...size, space: 'rgb', decoder: 'libjpeg' };
}

/** sharp's header of `bytes`: stored width and height (no EXIF rotation), colour space, metadata. */
export async function readHeader(bytes: Uint8Array, name: string, maxPixels: number): Promise<SharpHeader> {
  if (bytes.length === 0) throw new DecodeError(name, 'the file is empty (0 bytes)');
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, options(maxPixels)).metadata();
  } catch (e) {
    throw new DecodeError(name, reasonOf(e));
  }
  const { width, height } = meta;
  if (!width || !height) throw new DecodeError(name, 'the header gives no image size');
  checkPixels(name, width, height, maxPixels);
  return { width, height, space: meta.space === 'cmyk' ? 'cmyk' : 'rgb', decoder: 'sharp', metadata: meta };
}

/** The RGB pixels (HWC, 3 channels) of `box` in the image `bytes` whose header is `header`. */
export async function decodeRegion(
  bytes: Uint8Array,
  name: string,
  header: Header,
  box: CropBox,
  maxPixels: number,
): Promise<Uint8Array> {
  if (header.decoder === 'libjpeg') {
    try {
      return jpegRegion(bytes, box);
    } catch (e) {
      throw new DecodeError(name, reasonOf(e));
    }
  }
  let pipeline = sharp(bytes, options(maxPixels)).extract(box);
  pipeline =
    header.space === 'cmyk'
      ? pipeline.pipelineColourspace('cmyk').toColourspace('cmyk')
      : pipeline.toColourspace('srgb');
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DecodeError(name, reasonOf(e));
  }
  const { width, height, channels } = out.info;
  if (width !== box.width || height !== box.height) {
    throw new DecodeError(name, `decoded ${width}x${height}, expected the ${box.width}x${box.height} crop`);
  }
  const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
  try {
    return toRgb(data, width * height, channels, header.space);
  } catch (e) {
    throw new DecodeError(name, reasonOf(e));
  }
}
