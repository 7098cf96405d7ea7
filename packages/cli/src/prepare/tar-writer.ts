// prepare/tar-writer.ts: a minimal ustar writer for WebDataset shards: one 512-byte header per
// member (name up to 100 bytes, mode 0644, mtime 0, uid/gid 0, so the bytes depend only on the
// members), the data padded to 512-byte blocks, and two zero blocks at the end. `tarMemberBytes`
// is what a member costs, so a shard's size is known before it is written.
import { type FileHandle, open } from 'node:fs/promises';

export const TAR_BLOCK = 512;
/** the two zero blocks that end an archive */
export const TAR_END = 2 * TAR_BLOCK;

/** The bytes a member of `size` bytes takes in the archive (header + padded data). */
export function tarMemberBytes(size: number): number {
  return TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

function octal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'ascii');
}

/** The ustar header of a regular file `name` (ASCII, at most 100 bytes) of `size` bytes. */
export function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar member name too long: ${name}`);
  if (size >= 8 ** 11) throw new Error(`tar member too large: ${name} (${size} bytes)`);
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(name, 0, 'utf8');
  octal(h, 100, 8, 0o644); // mode
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime: fixed, for reproducible shards
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Writes members to one archive file; close() ends it (two zero blocks) and syncs it. */
export class TarWriter {
  private bytes = 0;
  private constructor(private readonly fh: FileHandle) {}

  static async create(path: string): Promise<TarWriter> {
    return new TarWriter(await open(path, 'w'));
  }

  /** bytes written so far */
  get size(): number {
    return this.bytes;
  }

  async add(name: string, data: Uint8Array): Promise<void> {
    const pad = (TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK;
    const parts = [tarHeader(name, data.length), data, Buffer.alloc(pad)];
    await this.fh.writev(parts);
    this.bytes += TAR_BLOCK + data.length + pad;
  }

  async close(): Promise<number> {
    await this.fh.write(Buffer.alloc(TAR_END));
    this.bytes += TAR_END;
    await this.fh.sync();
    await this.fh.close();
    return this.bytes;
  }

  /** Closes without ending the archive (after a failure; the file is discarded). */
  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
