// idx.ts: an ImageSource over MNIST-style idx files (`train-images-idx3-ubyte[.gz]` with
// `train-labels-idx1-ubyte[.gz]`; Fashion-MNIST uses the same names). Given a folder it takes the
// train split (t10k when there is no train), or it is pointed at an images file directly. Magic
// numbers (0x00000803 images, 0x00000801 labels), counts and sizes are checked at open. Plain
// image files are read in place; gzipped ones are decompressed once into shared memory that the
// spec carries to workers. Samples are raw 1-channel pixels.
import { readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FileHandles } from './file-handles.js';
import { LabelledSource } from './labelled.js';
import { DataError, type IdxSpec, type ImageSource, type Sample, why } from './types.js';

export const IDX_IMAGES = /^(train|t10k)-images[.-]idx3-ubyte(\.gz)?$/;
const IMAGES_MAGIC = 0x803;
const LABELS_MAGIC = 0x801;

/** The images file in a folder (train split first), or undefined. */
export function findIdxImages(dir: string): string | undefined {
  const names = readdirSync(dir).filter((n) => IDX_IMAGES.test(n));
  const pick = names.find((n) => n.startsWith('train')) ?? names[0];
  return pick === undefined ? undefined : join(dir, pick);
}

/** The labels file next to an images file, if there is one. */
async function labelsFor(images: string): Promise<string | undefined> {
  const base = basename(images).replace(/\.gz$/, '').replace('images', 'labels').replace('idx3', 'idx1');
  for (const name of [base, `${base}.gz`]) {
    const f = join(dirname(images), name);
    if ((await stat(f).catch(() => undefined))?.isFile()) return f;
  }
  return undefined;
}

/** The file's bytes, gunzipped when it starts with the gzip magic. */
async function load(file: string): Promise<Buffer> {
  const raw = await readFile(file).catch((e) => {
    throw new DataError(file, `cannot read (${why(e)})`);
  });
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw new DataError(file, `corrupt gzip data (${why(e)})`);
  }
}

/** Checks an idx header in b: the magic number, then dims (count, ...) whose product must fill the `size`-byte file. */
function header(file: string, b: Buffer, size: number, magic: number, what: string): number[] {
  const ndim = magic & 0xff;
  if (b.length < 4 + 4 * ndim) throw new DataError(file, `too short for an idx ${what} file (${size} bytes)`);
  const got = b.readUInt32BE(0);
  if (got !== magic)
    throw new DataError(
      file,
      `wrong magic number 0x${hex(got)}: an idx ${what} file starts with 0x${hex(magic)} (is it gzipped with another name, or another file?)`,
    );
  const dims = Array.from({ length: ndim }, (_, d) => b.readUInt32BE(4 + 4 * d));
  const want = 4 + 4 * ndim + dims.reduce((a, x) => a * x, 1);
  if (size !== want)
    throw new DataError(file, `holds ${size} bytes, but its header (${dims.join(' x ')}) needs ${want}`);
  return dims;
}

const hex = (v: number) => v.toString(16).padStart(8, '0');

/** The first 16 bytes of a plain file and its size. */
async function readHead(file: string): Promise<{ head: Buffer; size: number }> {
  const h = new FileHandles(1);
  try {
    const size = (await stat(file)).size;
    return { head: await h.read(file, 0, Math.min(16, size), 'the idx header'), size };
  } finally {
    await h.close();
  }
}

/** Scans the idx source at path (a folder or an images file) into a spec. */
export async function scanIdx(path: string): Promise<IdxSpec> {
  const st = await stat(path).catch((e) => {
    throw new DataError(path, `does not exist (${why(e)})`);
  });
  const images = st.isDirectory() ? findIdxImages(path) : path;
  if (!images) throw new DataError(path, 'no idx images file (train-images-idx3-ubyte[.gz]) in the folder');
  const gz = images.endsWith('.gz');
  const { head, size } = gz
    ? await load(images).then((b) => ({ head: b, size: b.length }))
    : await readHead(images);
  const [count, rows, cols] = header(images, head, size, IMAGES_MAGIC, 'images');
  if (count === 0) throw new DataError(images, 'holds no images');
  const spec: IdxSpec = {
    format: 'idx',
    path,
    classes: [''],
    images,
    rows: rows!,
    cols: cols!,
    labels: new Uint8Array(count),
  };
  const labelsFile = await labelsFor(images);
  if (labelsFile) {
    const lb = await load(labelsFile);
    const [n] = header(labelsFile, lb, lb.length, LABELS_MAGIC, 'labels');
    if (n !== count)
      throw new DataError(labelsFile, `holds ${n} labels for the ${count} images of ${images}`);
    spec.labels = new Uint8Array(lb.subarray(8));
    spec.classes = Array.from({ length: spec.labels.reduce((a, v) => Math.max(a, v), 0) + 1 }, (_, c) =>
      String(c),
    );
  }
  if (gz) {
    spec.data = new Uint8Array(new SharedArrayBuffer(head.length));
    spec.data.set(head);
  }
  return spec;
}

export class IdxSource extends LabelledSource<IdxSpec> implements ImageSource {
  readonly format = 'idx' as const;

  constructor(spec: IdxSpec) {
    super(spec, 1);
  }

  protected async readChecked(i: number): Promise<Sample> {
    const { rows, cols, images, data } = this.spec;
    const px = rows * cols;
    const at = 16 + i * px;
    const pixels = data
      ? data.slice(at, at + px)
      : new Uint8Array(await this.handles.read(images, at, px, `image ${i}`, i));
    return { kind: 'raw', pixels, width: cols, height: rows, channels: 1, name: `${images}#${i}` };
  }
}

export async function openIdx(path: string): Promise<IdxSource> {
  return new IdxSource(await scanIdx(path));
}
