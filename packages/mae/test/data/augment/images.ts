// images.ts: small test images of every kind the decoder must handle, made with sharp, and PIL's
// reading of them (convert('RGB'), convert('L') of a crop) through /usr/bin/python3.
import sharp from 'sharp';
import type { CropBox } from '../../../src/data/augment/crop.js';
import { runPython } from './python.js';

export const W = 37;
export const H = 23;

/** A deterministic RGBA pattern, W x H, with varied alpha (every 4th pixel opaque). */
export function pattern(opaque = false): Buffer {
  const px = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    px[4 * i] = (i * 7) & 255;
    px[4 * i + 1] = (i * 13 + 50) & 255;
    px[4 * i + 2] = (i * 29 + 100) & 255;
    px[4 * i + 3] = opaque || i % 4 === 0 ? 255 : (i * 3) & 255;
  }
  return px;
}

const base = (opaque = false) => sharp(pattern(opaque), { raw: { width: W, height: H, channels: 4 } });

/** A 16-bit RGB PNG with arbitrary (not 257-multiple) samples, and those samples. */
export async function png16(): Promise<{ bytes: Buffer; samples: Uint16Array }> {
  const samples = new Uint16Array(W * H * 3);
  for (let i = 0; i < samples.length; i++) samples[i] = (i * 40503 + 12345) & 0xffff;
  const bytes = await sharp(samples, { raw: { width: W, height: H, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  return { bytes, samples };
}

/** Every kind, by name; `pil` marks those Pillow 9 reads the way the decoder promises. */
export async function imageKinds(): Promise<{ name: string; bytes: Buffer; pil: boolean }[]> {
  return [
    { name: 'rgb.jpg', bytes: await base().removeAlpha().jpeg({ quality: 90 }).toBuffer(), pil: true },
    { name: 'grey.png', bytes: await base().removeAlpha().toColourspace('b-w').png().toBuffer(), pil: true },
    { name: 'grey.jpg', bytes: await base().removeAlpha().toColourspace('b-w').jpeg().toBuffer(), pil: true },
    { name: 'rgba.png', bytes: await base().png().toBuffer(), pil: true },
    { name: 'palette.png', bytes: await base().png({ palette: true, colours: 64 }).toBuffer(), pil: true },
    { name: 'rgb16.png', bytes: (await png16()).bytes, pil: true },
    {
      name: 'cmyk.jpg',
      bytes: await base().removeAlpha().toColourspace('cmyk').jpeg().toBuffer(),
      pil: true,
    },
    { name: 'opaque.gif', bytes: await base(true).gif().toBuffer(), pil: true },
    { name: 'rgba.webp', bytes: await base().webp({ lossless: true }).toBuffer(), pil: true },
    { name: 'lossy.webp', bytes: await base().removeAlpha().webp({ quality: 80 }).toBuffer(), pil: true },
    { name: 'rgba.tiff', bytes: await base().tiff().toBuffer(), pil: true },
    { name: 'rgb.avif', bytes: await base().removeAlpha().avif({ lossless: true }).toBuffer(), pil: false },
  ];
}

const PIL_READ_PY = `
import base64, io, json, sys, warnings
warnings.simplefilter('ignore')
from PIL import Image
out = sys.stdout.buffer
for c in json.load(sys.stdin):
    im = Image.open(io.BytesIO(base64.b64decode(c['b64'])))
    t, l, h, w = c['box']
    rgb = im.convert('RGB').crop((l, t, l + w, t + h))
    out.write(rgb.tobytes())
    out.write(rgb.convert('L').tobytes())
`;

/** PIL's RGB and L pixels of `box` in each image. */
export function pilRead(items: { bytes: Uint8Array; box: CropBox }[]): { rgb: Buffer; grey: Buffer }[] {
  const input = items.map(({ bytes, box }) => ({
    b64: Buffer.from(bytes).toString('base64'),
    box: [box.top, box.left, box.height, box.width],
  }));
  const all = runPython(PIL_READ_PY, [], JSON.stringify(input));
  let at = 0;
  return items.map(({ box }) => {
    const n = box.width * box.height;
    const rgb = all.subarray(at, at + 3 * n);
    const grey = all.subarray(at + 3 * n, at + 4 * n);
    at += 4 * n;
    return { rgb, grey };
  });
}
