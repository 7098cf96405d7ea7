// prepare/encode.ts: one sample re-encoded for the stored copy: decoded with sharp (no EXIF
// rotation, as PIL reads it), alpha dropped (PIL's convert('RGB')), converted to sRGB, or kept grey
// when the image has one colour channel, the short side resized to `shortSide` with lanczos3
// (never enlarged, aspect kept; the long side rounded), and written as a baseline JPEG, or as raw
// pixels in a binary PPM (RGB) or PGM (grey) that training reads without decoding.
import { type Sample, writeNetpbm } from '@mae-cuda/mae';
import sharp from 'sharp';

/** How a stored image is written: a JPEG, or its pixels uncompressed (PPM / PGM). */
export type Encoding = 'jpeg' | 'raw';
export const ENCODINGS: readonly Encoding[] = ['jpeg', 'raw'];

export interface EncodeSettings {
  /** the short side to resize to (never enlarged), or undefined to keep the size */
  shortSide?: number;
  quality: number;
  encoding: Encoding;
}

/** An encoded sample: its bytes and the member extension they go under. */
export interface Encoded {
  bytes: Buffer;
  ext: 'jpg' | 'ppm' | 'pgm';
}

/** The size with the short side at most `shortSide` (aspect kept, the long side rounded, at least 1). */
export function resizedSize(width: number, height: number, shortSide?: number): [number, number] {
  const short = Math.min(width, height);
  if (shortSide === undefined || short <= shortSide) return [width, height];
  const scale = shortSide / short;
  return width <= height
    ? [shortSide, Math.max(1, Math.round(height * scale))]
    : [Math.max(1, Math.round(width * scale)), shortSide];
}

/** The sample re-encoded (throws sharp's error for an image that cannot be decoded). */
export async function encodeSample(sample: Sample, s: EncodeSettings): Promise<Encoded> {
  let img =
    sample.kind === 'raw'
      ? sharp(Buffer.from(sample.pixels.buffer, sample.pixels.byteOffset, sample.pixels.byteLength), {
          raw: { width: sample.width, height: sample.height, channels: sample.channels },
        })
      : sharp(sample.bytes);
  const meta = await img.metadata();
  if (meta.width === undefined || meta.height === undefined) throw new Error('no image size in the header');
  const colours = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0);
  const grey = colours === 1 && meta.space !== 'cmyk';
  img = img.removeAlpha().toColourspace(grey ? 'b-w' : 'srgb');
  const [w, h] = resizedSize(meta.width, meta.height, s.shortSide);
  if (w !== meta.width || h !== meta.height)
    img = img.resize({ width: w, height: h, fit: 'fill', kernel: 'lanczos3' });
  if (s.encoding === 'jpeg') {
    const bytes = await img
      .jpeg({ quality: s.quality, chromaSubsampling: '4:2:0', mozjpeg: false })
      .toBuffer();
    return { bytes, ext: 'jpg' };
  }
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const channels = info.channels === 1 ? 1 : 3;
  if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected 1 or 3`);
  const bytes = writeNetpbm(data, info.width, info.height, channels);
  return { bytes, ext: channels === 1 ? 'pgm' : 'ppm' };
}
