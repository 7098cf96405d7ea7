// st_reader.ts: the streamed safetensors reader. openSafetensors reads only the header through a
// file handle and validates it completely (st_header.ts) against the file's size; read(name) then
// reads just that tensor, in bounded chunks, into a fresh (so aligned) typed array or a caller's
// own; close() releases the handle. Files of any size can be read, one tensor at a time, and a
// file that is not a safetensors file at all is refused with one clear line naming it.
import { type FileHandle, open } from 'node:fs/promises';
import { IO_CHUNK_BYTES } from './atomic.js';
import {
  checkHeaderLength,
  type Fail,
  failFor,
  parseHeader,
  SafetensorsError,
  type StHeader,
  tooShort,
} from './st_header.js';
import {
  bytesOf,
  checkBool,
  HOST_IS_LITTLE_ENDIAN,
  numel,
  ST_ARRAY_CTOR,
  type StData,
  type StDType,
  type StFile,
  type StTensor,
} from './st_types.js';

/** What the header says about one tensor. */
export interface StTensorInfo {
  dtype: StDType;
  shape: number[];
  /** bytes of data */
  byteLength: number;
}

/** Reads `dest.byteLength` bytes at `position`; `short` is called if the file ends first. */
async function readFully(
  fh: FileHandle,
  dest: Uint8Array,
  position: number,
  short: (at: number) => never,
): Promise<void> {
  let done = 0;
  while (done < dest.byteLength) {
    const n = Math.min(IO_CHUNK_BYTES, dest.byteLength - done);
    const { bytesRead } = await fh.read(dest, done, n, position + done);
    if (bytesRead <= 0) short(position + done);
    done += bytesRead;
  }
}

async function readHeader(fh: FileHandle, fail: Fail): Promise<{ header: StHeader; dataStart: number }> {
  const st = await fh.stat();
  if (st.isDirectory()) fail('not a safetensors file: it is a directory');
  if (!st.isFile()) fail('not a safetensors file: it is not a regular file');
  if (st.size < 8) fail(tooShort(st.size));
  const short = (at: number): never => fail(`file ended at byte ${at} while reading the header`);
  const prefix = new Uint8Array(8);
  await readFully(fh, prefix, 0, short);
  const n = checkHeaderLength(new DataView(prefix.buffer).getBigUint64(0, true), st.size, fail);
  const json = new Uint8Array(n);
  await readFully(fh, json, 8, short);
  return { header: parseHeader(json, st.size - 8 - n, fail), dataStart: 8 + n };
}

/** An open safetensors file whose header has been validated. */
export class SafetensorsReader {
  private closed = false;
  private readonly fail: Fail;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly header: StHeader,
    private readonly dataStart: number,
  ) {
    this.fail = failFor(path);
  }

  /** Opens `path` and reads and validates its header (not its data). */
  static async open(path: string): Promise<SafetensorsReader> {
    const fail = failFor(path);
    if (!HOST_IS_LITTLE_ENDIAN) fail('big-endian hosts are not supported');
    const fh = await open(path, 'r').catch((e: Error) => fail(`cannot open: ${e.message}`));
    try {
      const { header, dataStart } = await readHeader(fh, fail);
      return new SafetensorsReader(path, fh, header, dataStart);
    } catch (e) {
      await fh.close().catch(() => {});
      if (e instanceof SafetensorsError) throw e;
      return fail(`cannot read the header: ${(e as Error).message}`);
    }
  }

  /** The `__metadata__` strings. */
  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.header.entries.keys()];
  }

  has(name: string): boolean {
    return this.header.entries.has(name);
  }

  /** dtype, shape and size of a tensor, or undefined if there is none of that name. */
  info(name: string): StTensorInfo | undefined {
    const e = this.header.entries.get(name);
    return e && { dtype: e.dtype, shape: [...e.shape], byteLength: e.end - e.begin };
  }

  /** Every tensor's info, in header order. */
  infos(): Map<string, StTensorInfo> {
    return new Map(this.names().map((n) => [n, this.info(n)!]));
  }

  private destination(name: string, dtype: StDType, n: number, dest?: StData): StData {
    const ctor = ST_ARRAY_CTOR[dtype];
    if (dest === undefined) {
      try {
        return new ctor(n);
      } catch (e) {
        this.fail(`tensor "${name}": cannot allocate ${n} elements of ${dtype}: ${(e as Error).message}`);
      }
    }
    if (!(dest instanceof ctor) || dest.length !== n) {
      const got = `${(dest as object)?.constructor?.name} of ${(dest as StData)?.length} elements`;
      this.fail(`tensor "${name}": the destination must be a ${ctor.name} of ${n} elements, got a ${got}`);
    }
    return dest!;
  }

  /**
   * Reads one tensor into a fresh typed array, or into `dest` (the dtype's typed array with exactly
   * the tensor's element count; a view into a larger buffer is fine).
   */
  async read(name: string, dest?: StData): Promise<StTensor> {
    if (this.closed) this.fail(`cannot read tensor "${name}": the reader is closed`);
    const e = this.header.entries.get(name);
    if (!e) this.fail(`no tensor "${name}" in this file`);
    const { dtype, shape, begin } = e!;
    const data = this.destination(name, dtype, numel(shape), dest);
    const short = (at: number): never =>
      this.fail(`tensor "${name}": the file ended at byte ${at}, inside the tensor (truncated while open?)`);
    try {
      await readFully(this.fh, bytesOf(data), this.dataStart + begin, short);
    } catch (err) {
      if (err instanceof SafetensorsError) throw err;
      this.fail(`tensor "${name}": read failed: ${(err as Error).message}`);
    }
    if (dtype === 'BOOL')
      checkBool(data as Uint8Array, () => this.fail(`tensor "${name}": BOOL values must be 0 or 1`));
    return { dtype, shape: [...shape], data } as StTensor;
  }

  /** Reads every tensor, in header order. */
  async readAll(): Promise<Map<string, StTensor>> {
    const out = new Map<string, StTensor>();
    for (const name of this.header.entries.keys()) out.set(name, await this.read(name));
    return out;
  }

  /** Releases the file handle; later reads throw. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/** Opens a safetensors file: the header is read and validated, the data is read on demand. */
export function openSafetensors(path: string): Promise<SafetensorsReader> {
  return SafetensorsReader.open(path);
}

/** Opens `path`, runs `fn` with the reader, and closes it whatever happens. */
export async function withSafetensors<T>(path: string, fn: (r: SafetensorsReader) => Promise<T>): Promise<T> {
  const r = await openSafetensors(path);
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

/** Reads a whole safetensors file, tensor by tensor (each into its own aligned typed array). */
export function readSafetensors(path: string): Promise<StFile> {
  return withSafetensors(path, async (r) => ({ tensors: await r.readAll(), metadata: { ...r.metadata } }));
}
