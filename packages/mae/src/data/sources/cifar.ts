// cifar.ts: an ImageSource over the CIFAR binary batches. CIFAR-10 (cifar-10-batches-bin):
// data_batch_1.bin ... data_batch_5.bin (test_batch.bin when there are none), records of 1 label
// byte + 3072 pixel bytes (32x32, channel planes R, G, B). CIFAR-100 (cifar-100-binary): train.bin
// (test.bin when absent), records of a coarse and a fine label byte + 3072; the fine label is used.
// Class names come from batches.meta.txt / fine_label_names.txt when present. The labels are read
// at open (one pass over the files); samples are raw 3-channel pixels converted to HWC.
import { readdirSync } from 'node:fs';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LabelledSource } from './labelled.js';
import { type CifarSpec, DataError, type ImageSource, type Sample, why } from './types.js';

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;
const CIFAR10 = /^data_batch_(\d+)\.bin$/;
const CIFAR10_TEST = 'test_batch.bin';
const CIFAR100 = ['train.bin', 'test.bin'];

interface Layout {
  files: string[];
  labelBytes: 1 | 2;
  numClasses: number;
  namesFile: string;
}

/** The CIFAR batch files of a folder (train split first), or undefined if it holds none. */
export function findCifar(dir: string): Layout | undefined {
  const names = readdirSync(dir);
  const batches = names
    .map((n) => CIFAR10.exec(n))
    .filter((m) => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => m[0]);
  if (batches.length === 0 && names.includes(CIFAR10_TEST)) batches.push(CIFAR10_TEST);
  if (batches.length > 0)
    return {
      files: batches.map((n) => join(dir, n)),
      labelBytes: 1,
      numClasses: 10,
      namesFile: join(dir, 'batches.meta.txt'),
    };
  const c100 = CIFAR100.find((n) => names.includes(n));
  if (c100)
    return {
      files: [join(dir, c100)],
      labelBytes: 2,
      numClasses: 100,
      namesFile: join(dir, 'fine_label_names.txt'),
    };
  return undefined;
}

/** The layout for one batch file given directly. */
function layoutOfFile(file: string): Layout | undefined {
  const name = basename(file);
  const dir = dirname(file);
  if (CIFAR10.test(name) || name === CIFAR10_TEST)
    return { files: [file], labelBytes: 1, numClasses: 10, namesFile: join(dir, 'batches.meta.txt') };
  if (CIFAR100.includes(name))
    return { files: [file], labelBytes: 2, numClasses: 100, namesFile: join(dir, 'fine_label_names.txt') };
  return undefined;
}

async function classNames(layout: Layout): Promise<string[]> {
  const text = await readFile(layout.namesFile, 'utf8').catch(() => undefined);
  const names =
    text
      ?.split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '') ?? [];
  if (text !== undefined && names.length !== layout.numClasses)
    throw new DataError(
      layout.namesFile,
      `lists ${names.length} class names, CIFAR-${layout.numClasses} has ${layout.numClasses}`,
    );
  return names.length > 0 ? names : Array.from({ length: layout.numClasses }, (_, c) => String(c));
}

/** The labels of one batch file (the last label byte of each record), read in large chunks. */
async function readLabels(
  file: string,
  layout: Layout,
  records: number,
  out: Uint8Array,
  at: number,
): Promise<void> {
  const rec = layout.labelBytes + PIXELS;
  const perChunk = 1024;
  const buf = Buffer.alloc(rec * perChunk);
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new DataError(file, `cannot open (${why(e)})`);
  }
  try {
    for (let r = 0; r < records; r += perChunk) {
      const n = Math.min(perChunk, records - r);
      const { bytesRead } = await fh.read(buf, 0, n * rec, r * rec);
      if (bytesRead !== n * rec)
        throw new DataError(file, `truncated while reading records ${r}..${r + n - 1}`);
      for (let k = 0; k < n; k++) {
        const label = buf[k * rec + layout.labelBytes - 1]!;
        if (label >= layout.numClasses)
          throw new DataError(
            file,
            `record ${r + k} has label ${label}, CIFAR-${layout.numClasses} has ${layout.numClasses} classes`,
            at + r + k,
          );
        out[at + r + k] = label;
      }
    }
  } finally {
    await fh.close();
  }
}

/** Scans the CIFAR source at path (a folder or one batch file) into a spec. */
export async function scanCifar(path: string): Promise<CifarSpec> {
  const st = await stat(path).catch((e) => {
    throw new DataError(path, `does not exist (${why(e)})`);
  });
  const layout = st.isDirectory() ? findCifar(path) : layoutOfFile(path);
  if (!layout)
    throw new DataError(path, 'no CIFAR batches (data_batch_N.bin, test_batch.bin, train.bin or test.bin)');
  const recordSize = layout.labelBytes + PIXELS;
  const firsts = [0];
  for (const f of layout.files) {
    const size = (await stat(f)).size;
    if (size === 0 || size % recordSize !== 0)
      throw new DataError(
        f,
        `holds ${size} bytes, not a whole number of ${recordSize}-byte CIFAR-${layout.numClasses} records`,
      );
    firsts.push(firsts[firsts.length - 1]! + size / recordSize);
  }
  const labels = new Uint8Array(firsts[firsts.length - 1]!);
  for (let f = 0; f < layout.files.length; f++)
    await readLabels(layout.files[f]!, layout, firsts[f + 1]! - firsts[f]!, labels, firsts[f]!);
  const classes = await classNames(layout);
  return {
    format: 'cifar',
    path,
    classes,
    files: layout.files,
    firsts: firsts.slice(0, -1),
    recordSize,
    labels,
  };
}

/** CHW planes (R, G, B) to interleaved HWC. */
export function chwToHwc(chw: Uint8Array, side = SIDE): Uint8Array {
  const plane = side * side;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    out[3 * p] = chw[p]!;
    out[3 * p + 1] = chw[plane + p]!;
    out[3 * p + 2] = chw[2 * plane + p]!;
  }
  return out;
}

export class CifarSource extends LabelledSource<CifarSpec> implements ImageSource {
  readonly format = 'cifar' as const;

  constructor(spec: CifarSpec) {
    super(spec, 8);
  }

  protected async readChecked(i: number): Promise<Sample> {
    const { firsts, files, recordSize } = this.spec;
    let f = firsts.length - 1;
    while (firsts[f]! > i) f--;
    const r = i - firsts[f]!;
    const at = r * recordSize + recordSize - PIXELS;
    const chw = await this.handles.read(files[f]!, at, PIXELS, `record ${r}`, i);
    return {
      kind: 'raw',
      pixels: chwToHwc(chw),
      width: SIDE,
      height: SIDE,
      channels: 3,
      name: `${files[f]}#${r}`,
    };
  }
}

export async function openCifar(path: string): Promise<CifarSource> {
  return new CifarSource(await scanCifar(path));
}
