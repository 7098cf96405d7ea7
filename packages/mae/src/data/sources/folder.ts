// folder.ts: an ImageSource over an image folder (see folder-scan.ts for the scan): read(i) returns
// the file's encoded bytes; the label comes from the class ranges, so nothing per file is kept
// beyond its relative path. In a worker thread (the batch loader's) the file is read synchronously:
// the thread does nothing else, and the libuv pool's four round trips per file (open, stat, read,
// close) cost more than the read itself. With `transient` reads (types.ts ReadOptions) the file
// lands in one reused buffer.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { ReadScratch } from './file-handles.js';
import { scanFolder } from './folder-scan.js';
import {
  checkIndex,
  DataError,
  type FolderSpec,
  type ImageSource,
  type ReadOptions,
  type Sample,
  why,
} from './types.js';

/** The whole of `file` in `scratch`'s buffer. */
function readInto(file: string, scratch: ReadScratch): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = scratch.take(fstatSync(fd).size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) return buf.subarray(0, got); // shrank since fstat: what is there, as readFile
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

export class FolderSource implements ImageSource {
  readonly format = 'folder' as const;
  readonly path: string;
  readonly length: number;
  readonly classes: readonly string[];

  private readonly scratch: ReadScratch | undefined;

  constructor(
    readonly spec: FolderSpec,
    options: ReadOptions = {},
  ) {
    if (options.transient) this.scratch = new ReadScratch();
    this.path = spec.path;
    this.length = spec.files.length;
    this.classes = spec.classes;
  }

  label(i: number): number {
    checkIndex(this.path, i, this.length);
    const s = this.spec.starts;
    let lo = 0;
    let hi = s.length - 2; // the class c with s[c] <= i < s[c + 1]
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async read(i: number): Promise<Sample> {
    checkIndex(this.path, i, this.length);
    const file = join(this.path, this.spec.files[i]!);
    let bytes: Buffer;
    try {
      if (this.scratch) bytes = readInto(file, this.scratch);
      else bytes = isMainThread ? await readFile(file) : readFileSync(file);
    } catch (e) {
      throw new DataError(file, `cannot read the image (${why(e)})`, i);
    }
    return {
      kind: 'encoded',
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
      name: file,
    };
  }

  async close(): Promise<void> {}
}

export async function openFolder(root: string): Promise<FolderSource> {
  return new FolderSource(await scanFolder(root));
}
