// atomic.ts: atomic file writes. The content goes to a temp file in the target's folder, named
// `<basename>.tmp-<pid>-<hex>` (stale ones are found and removed by that pattern), which is
// fsynced, renamed over the target, and the folder fsynced. On any error (the filler's own, a
// full disk, a file-size limit, a failed rename) the temp file is removed and the old target is
// untouched. Writes go through a file handle in bounded chunks, so no size limit applies.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Largest single read or write: well under the 2 GiB a single call can move. */
export const IO_CHUNK_BYTES = 64 * 1024 * 1024;

/** A fresh temp path next to `path`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Writes all of `bytes` at `position`, in chunks, going on after short writes. */
export async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = Math.min(IO_CHUNK_BYTES, bytes.byteLength - done);
    const { bytesWritten } = await fh.write(bytes, done, n, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  // Make the rename durable. Some platforms cannot open or fsync a folder; the data is safe anyway.
  const dh = await open(dir, 'r').catch(() => undefined);
  if (!dh) return;
  try {
    await dh.sync();
  } catch {
    // ignore: not supported here
  } finally {
    await dh.close();
  }
}

/**
 * Writes `path` atomically: `fill` writes the content through the temp file's handle (at explicit
 * positions, e.g. with writeFully). Errors are rethrown as `cannot write <path>: ...` with the
 * original as `cause`.
 */
export async function writeAtomic(path: string, fill: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const fh = await open(tmp, 'wx');
    created = true;
    try {
      await fill(fh);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    await fh.close();
    await rename(tmp, path);
    created = false;
  } catch (e) {
    if (created) await unlink(tmp).catch(() => {});
    throw new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  await syncDir(dirname(path));
}

/** Writes `bytes` to `path` atomically (see writeAtomic). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomic(path, (fh) => writeFully(fh, bytes, 0));
}
