// netpbm.ts: binary PPM (P6, RGB) and PGM (P5, grey) images with 8-bit samples (maxval 255), the
// uncompressed form `mae-cuda prepare --encoding raw` stores so that training decodes nothing, and
// that torchvision's ImageFolder and WebDataset also read (PIL opens them). sharp has no reader for
// them; this one parses the header and returns the pixels as a view of the file's bytes (no copy).
import type { Sample } from '../sources/types.js';
import { DecodeError } from './decode.js';

type RawSample = Extract<Sample, { kind: 'raw' }>;

const isSpace = (c: number) =>
  c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

/** Whether `bytes` start with a Netpbm magic number (P1 to P7). */
export function looksNetpbm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && bytes[1]! >= 0x31 && bytes[1]! <= 0x37;
}

/** Reads the header's numbers: whitespace and `#` comments between them, one whitespace byte after. */
function headerFields(bytes: Uint8Array, name: string): { fields: number[]; dataStart: number } {
  const fields: number[] = [];
  let i = 2;
  while (fields.length < 3) {
    while (i < bytes.length && (isSpace(bytes[i]!) || bytes[i] === 0x23)) {
      if (bytes[i] === 0x23) while (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) i++;
      else i++;
    }
    let v = 0;
    const start = i;
    while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39 && i - start < 9)
      v = v * 10 + bytes[i++]! - 0x30;
    if (i === start || (i < bytes.length && !isSpace(bytes[i]!))) {
      throw new DecodeError(name, 'the PPM/PGM header is malformed (expected width, height and maxval)');
    }
    fields.push(v);
  }
  return { fields, dataStart: i + 1 };
}

/**
 * The raw sample a binary PPM/PGM holds, or undefined when `bytes` are not Netpbm. A Netpbm file
 * this reader does not take (ASCII P1-P3, bitmaps, PAM, 16-bit samples) or one cut short is a
 * DecodeError naming the sample.
 */
export function readNetpbm(bytes: Uint8Array, name: string): RawSample | undefined {
  if (!looksNetpbm(bytes)) return undefined;
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!);
  if (magic !== 'P5' && magic !== 'P6') {
    throw new DecodeError(name, `Netpbm ${magic} is not read here (binary P5 grey and P6 RGB only)`);
  }
  const { fields, dataStart } = headerFields(bytes, name);
  const [width, height, maxval] = fields as [number, number, number];
  if (maxval !== 255)
    throw new DecodeError(name, `PPM/PGM maxval ${maxval}: only 8-bit samples (255) are read here`);
  if (width < 1 || height < 1) throw new DecodeError(name, `PPM/PGM size ${width}x${height} is empty`);
  const channels = magic === 'P6' ? 3 : 1;
  const need = width * height * channels;
  if (bytes.length - dataStart < need) {
    throw new DecodeError(
      name,
      `the PPM/PGM data is truncated: ${bytes.length - dataStart} of ${need} bytes`,
    );
  }
  return { kind: 'raw', pixels: bytes.subarray(dataStart, dataStart + need), width, height, channels, name };
}

/** The PPM (RGB) or PGM (grey) file of 8-bit HWC pixels. */
export function writeNetpbm(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`writeNetpbm: ${pixels.length} bytes for ${width}x${height}x${channels}`);
  }
  const header = Buffer.from(`${channels === 3 ? 'P6' : 'P5'}\n${width} ${height}\n255\n`, 'latin1');
  return Buffer.concat([header, pixels]);
}
