// zip.ts: a small reader of zip archives (PKWARE APPNOTE), enough for PyTorch's torch.save files:
// the central directory (zip64 too) is read from the end of the file, and members are read one at
// a time through a file handle, stored (as torch writes them) or deflated. Anything else, and a
// truncated or corrupt archive, throws a ZipError naming the file and what is wrong.
import { type FileHandle, open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

export interface ZipMember {
  name: string;
  /** where the member's local header starts */
  offset: number;
  compressedSize: number;
  size: number;
  /** 0: stored, 8: deflated */
  method: number;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

/** The central directory's members of an open zip file. */
export class ZipReader {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly members: ReadonlyMap<string, ZipMember>,
  ) {}

  static async open(path: string): Promise<ZipReader> {
    const fh = await open(path, 'r');
    try {
      return new ZipReader(path, fh, await readDirectory(path, fh));
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** A member's bytes (inflated when deflated); throws naming the member when it is bad. */
  async read(name: string): Promise<Uint8Array> {
    const m = this.members.get(name);
    const fail = (msg: string): never => {
      throw new ZipError(`${this.path}: member ${name}: ${msg}`);
    };
    if (!m) return fail('is not in the archive');
    const head = await readAt(this.fh, m.offset, 30, this.path);
    if (head.readUInt32LE(0) !== LOCAL) fail('its local header is corrupt');
    const start = m.offset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    const raw = await readAt(this.fh, start, m.compressedSize, this.path);
    if (m.method === 0) return raw;
    if (m.method !== 8) return fail(`compression method ${m.method} is not supported (stored or deflate)`);
    try {
      const out = inflateRawSync(raw);
      if (out.length !== m.size) fail(`inflates to ${out.length} bytes, the directory says ${m.size}`);
      return out;
    } catch (e) {
      if (e instanceof ZipError) throw e;
      return fail(`cannot be inflated (${(e as Error).message})`);
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** `length` bytes at `at`, or a ZipError saying the file is truncated. */
async function readAt(fh: FileHandle, at: number, length: number, path: string): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = length ? await fh.read(buf, 0, length, at) : { bytesRead: 0 };
  if (bytesRead !== length)
    throw new ZipError(`${path}: truncated (wanted ${length} bytes at offset ${at}, the file ends first)`);
  return buf;
}

/** The offset of the end-of-central-directory record, searched backwards over the comment. */
function findEocd(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) return i;
  return -1;
}

async function readDirectory(path: string, fh: FileHandle): Promise<Map<string, ZipMember>> {
  const fail = (msg: string): never => {
    throw new ZipError(`${path}: ${msg}`);
  };
  const { size } = await fh.stat();
  if (size < 22) fail(`${size} bytes is too short for a zip archive (truncated?)`);
  const tailLen = Math.min(size, 22 + MAX_COMMENT + 20);
  const tail = await readAt(fh, size - tailLen, tailLen, path);
  const at = findEocd(tail);
  if (at < 0) fail('no zip end-of-central-directory record (truncated, or not a zip archive)');
  let count = tail.readUInt16LE(at + 10);
  let dirSize = tail.readUInt32LE(at + 12);
  let dirOffset = tail.readUInt32LE(at + 16);
  if (at >= 20 && tail.readUInt32LE(at - 20) === EOCD64_LOCATOR) {
    const rec = await readAt(fh, Number(tail.readBigUInt64LE(at - 12)), 56, path);
    if (rec.readUInt32LE(0) !== EOCD64) fail('the zip64 end-of-central-directory record is corrupt');
    count = Number(rec.readBigUInt64LE(32));
    dirSize = Number(rec.readBigUInt64LE(40));
    dirOffset = Number(rec.readBigUInt64LE(48));
  }
  if (dirOffset + dirSize > size) fail('the central directory lies past the end of the file (truncated?)');
  const dir = await readAt(fh, dirOffset, dirSize, path);
  const members = new Map<string, ZipMember>();
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL)
      fail(`central directory entry ${k} is corrupt`);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    const name = dir.toString('utf8', p + 46, p + 46 + nameLen);
    const m: ZipMember = {
      name,
      method: dir.readUInt16LE(p + 10),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      offset: dir.readUInt32LE(p + 42),
    };
    applyZip64(m, dir.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
    if (m.offset + m.compressedSize > size) fail(`member ${name} lies past the end of the file (truncated?)`);
    members.set(name, m);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return members;
}

/** Sizes and offset saturated at 0xffffffff are in the zip64 extra field (id 1), in this order. */
function applyZip64(m: ZipMember, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 1) {
      let r = q + 4;
      const next = () => {
        const v = Number(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      if (m.size === 0xffffffff) m.size = next();
      if (m.compressedSize === 0xffffffff) m.compressedSize = next();
      if (m.offset === 0xffffffff) m.offset = next();
    }
    q += 4 + len;
  }
}
