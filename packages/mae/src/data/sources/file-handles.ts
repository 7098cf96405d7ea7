// file-handles.ts: a small cache of open read-only file handles for positional reads, shared by
// the sources that read many samples from few files (tar shards, idx and CIFAR batches). At most
// `max` stay open; the least recently used idle one is closed first, never one mid-read. In a worker
// thread (the batch loader's) the reads are synchronous (readSync on the same handle's descriptor):
// the thread does nothing else, and a libuv pool round trip costs more than a cached read. With
// `transient` reads (types.ts ReadOptions) they are synchronous on any thread and land in one
// reused buffer (ReadScratch).
import { readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { DataError, type ReadOptions, why } from './types.js';

interface Entry {
  fh: Promise<FileHandle>;
  busy: number;
}

/** One buffer, grown as needed and handed out again for every read. */
export class ReadScratch {
  private buf = Buffer.allocUnsafe(0);
  /** `length` bytes of the buffer, overwriting what the last take handed out. */
  take(length: number): Buffer {
    if (length > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(length, 2 * this.buf.length));
    return this.buf.subarray(0, length);
  }
}

export class FileHandles {
  private readonly open = new Map<string, Entry>();
  private readonly scratch: ReadScratch | undefined;
  constructor(
    private readonly max = 32,
    options: ReadOptions = {},
  ) {
    if (options.transient) this.scratch = new ReadScratch();
  }

  /** Reads `length` bytes of `file` at `position`; DataError (naming `what`) if the file is shorter. */
  async read(file: string, position: number, length: number, what: string, index?: number): Promise<Buffer> {
    const e = this.acquire(file);
    try {
      const fh = await e.fh.catch((err) => {
        this.open.delete(file);
        throw new DataError(file, `cannot open (${why(err)})`, index);
      });
      // filled below, or a DataError: never returned part-filled; a scratch buffer is taken after
      // the last await, so that no other read can take it before this one returns
      const buf = this.scratch ? this.scratch.take(length) : Buffer.allocUnsafe(length);
      const sync = this.scratch !== undefined || !isMainThread;
      let got = 0;
      while (got < length) {
        let bytesRead: number;
        try {
          bytesRead = !sync
            ? (await fh.read(buf, got, length - got, position + got)).bytesRead
            : readSync(fh.fd, buf, got, length - got, position + got);
        } catch (err) {
          throw new DataError(file, `cannot read ${what} (${why(err)})`, index);
        }
        if (bytesRead === 0)
          throw new DataError(
            file,
            `truncated: ${what} needs ${length} bytes at byte ${position}, got ${got}`,
            index,
          );
        got += bytesRead;
      }
      return buf;
    } finally {
      e.busy--;
    }
  }

  private acquire(file: string): Entry {
    let e = this.open.get(file);
    if (e)
      this.open.delete(file); // re-inserted below as the most recently used
    else e = { fh: open(file, 'r'), busy: 0 };
    this.open.set(file, e);
    e.busy++;
    if (this.open.size > this.max) {
      for (const [f, old] of this.open) {
        if (this.open.size <= this.max) break;
        if (old.busy > 0) continue;
        this.open.delete(f);
        old.fh.then((fh) => fh.close()).catch(() => {});
      }
    }
    return e;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((e) => e.fh.then((fh) => fh.close()).catch(() => {})));
  }
}
