// types.ts: what every image source is: the formats, one stored sample (encoded bytes or raw
// 8-bit pixels), the structured-clone-able spec a worker reopens a source from without scanning
// it again, the ImageSource interface, and DataError (a data problem naming its file and sample).

export type SourceFormat = 'folder' | 'tar' | 'idx' | 'cifar';
export const SOURCE_FORMATS: readonly SourceFormat[] = ['folder', 'tar', 'idx', 'cifar'];

/** One sample as stored: encoded image bytes (decoded later), or raw 8-bit pixels in HWC order. */
export type Sample =
  | { kind: 'encoded'; bytes: Uint8Array; name: string }
  | { kind: 'raw'; pixels: Uint8Array; width: number; height: number; channels: 1 | 3; name: string };

/** An image folder: file paths relative to `path`, grouped by class; class c holds [starts[c], starts[c+1]). */
export interface FolderSpec {
  format: 'folder';
  path: string;
  classes: string[];
  files: string[];
  starts: number[];
}

/** Tar shards: sample i is bytes [offsets[i], offsets[i] + sizes[i]) of shards[shard[i]], member members[i]. */
export interface TarSpec {
  format: 'tar';
  path: string;
  classes: string[];
  shards: string[];
  shard: Int32Array;
  offsets: Float64Array;
  sizes: Float64Array;
  members: string[];
  labels: Int32Array;
}

/** MNIST-style idx images: plain files are read in place; gzipped ones travel decompressed in `data`. */
export interface IdxSpec {
  format: 'idx';
  path: string;
  classes: string[];
  images: string;
  rows: number;
  cols: number;
  labels: Uint8Array;
  /** the decompressed images file (header included) when `images` is gzipped, shared between threads */
  data?: Uint8Array;
}

/** CIFAR-10/100 binary batches: sample i is record i - firsts[f] of files[f] (f the last with firsts[f] <= i). */
export interface CifarSpec {
  format: 'cifar';
  path: string;
  classes: string[];
  files: string[];
  firsts: number[];
  recordSize: number;
  labels: Uint8Array;
}

/** What a worker thread needs to reopen the same source without scanning it again (structured-clone-able). */
export type SourceSpec = FolderSpec | TarSpec | IdxSpec | CifarSpec;

export interface ImageSource {
  readonly format: SourceFormat;
  readonly path: string;
  /** number of samples */
  readonly length: number;
  /** class names; a label is an index into this */
  readonly classes: readonly string[];
  label(i: number): number;
  /** I/O problems throw DataError naming the file/member */
  read(i: number): Promise<Sample>;
  readonly spec: SourceSpec;
  close(): Promise<void>;
}

/** How a source reads its samples. */
export interface ReadOptions {
  /**
   * One reader that is done with a sample before it reads the next (a loader worker): reads are
   * synchronous and land in one buffer reused from read to read, so a sample's bytes are valid only
   * until the next read. Saves a fresh allocation (and its page faults) per sample.
   */
  transient?: boolean;
}

/** A problem with the data: names the file (or shard) and, where known, the sample index. */
export class DataError extends Error {
  readonly path: string;
  readonly index?: number;
  constructor(path: string, detail: string, index?: number) {
    super(index === undefined ? `${path}: ${detail}` : `${path} (sample ${index}): ${detail}`);
    this.name = 'DataError';
    this.path = path;
    if (index !== undefined) this.index = index;
  }
}

/** Throws a DataError unless 0 <= i < length (an integer). */
export function checkIndex(path: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length)
    throw new DataError(path, `sample index ${i} is out of range (the source holds ${length})`);
}

/** The system error's code and message, for wrapping into a DataError. */
export function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const message = String(err?.message ?? e);
  return err?.code && !message.startsWith(err.code) ? `${err.code}: ${message}` : message;
}
