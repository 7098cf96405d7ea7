// prepare/encode.ts: one sample re-encoded for the stored copy: decoded with sharp (no EXIF
// rotation, as PIL reads it), alpha dropped (PIL's convert('RGB')), converted to sRGB, or kept grey
// when the image has one colour channel, the short side resized to `shortSide` with lanczos3
// (never enlarged, aspect kept; the long side rounded), and written as a baseline JPEG.
import type { Sample } from '@mae-cuda/mae';
import sharp from 'sharp';

export interface EncodeSettings {
  /** the short side to resize to (never enlarged), or undefined to keep the size */
  shortSide?: number;
  quality: number;
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

/** The sample as JPEG bytes (throws sharp's error for an image that cannot be decoded). */
export async function encodeSample(sample: Sample, s: EncodeSettings): Promise<Buffer> {
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
  return img.jpeg({ quality: s.quality, chromaSubsampling: '4:2:0', mozjpeg: false }).toBuffer();
}
