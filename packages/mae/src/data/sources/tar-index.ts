// tar-index.ts: a small tar reader that lists a shard's regular members (name, data offset, size)
// without reading their data: ustar headers (prefix + name), GNU long names ('L'), pax 'path'
// records ('x'), base-256 sizes; links, folders and other non-regular entries are skipped.
// Headers are read through a 1 MiB window, so a shard of small members costs few reads.
// Corrupt headers and members running past the end of the file throw DataError naming the shard
// (and the member).
import { type FileHandle, open } from 'node:fs/promises';
import { DataError, why } from './types.js';

export interface TarMember {
  name: string;
  offset: number;
  size: number;
  /** the member's bytes, for the members `keep` asked for */
  data?: Buffer;
}

const BLOCK = 512;
const WINDOW = 1 << 20;

/** Positional reads of one file through a window, so consecutive small reads hit memory. */
class WindowReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  async read(pos: number, len: number): Promise<Buffer> {
    if (pos < this.start || pos + len > this.start + this.buf.length) {
      const n = Math.min(Math.max(len, WINDOW), this.size - pos);
      const buf = Buffer.alloc(n);
      const { bytesRead } = await this.fh.read(buf, 0, n, pos);
      this.buf = buf.subarray(0, bytesRead);
      this.start = pos;
    }
    const off = pos - this.start;
    return this.buf.subarray(off, off + len);
  }
}

function cstr(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** A numeric header field: octal text, or base-256 when the top bit of the first byte is set. */
function num(b: Buffer, start: number, len: number): number {
  if (b[start]! & 0x80) {
    let v = b[start]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i]!;
    return v;
  }
  const text = cstr(b, start, len).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === num(h, 148, 8);
}

/** The 'path' record of a pax extended header, if any. */
function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(space + 1, pos + len - 1).toString('utf8'); // without the newline
    if (rec.startsWith('path=')) return rec.slice(5);
    pos += len;
  }
  return undefined;
}

/** Lists the regular members of the tar file `shard`, with the bytes of those `keep` names. */
export async function indexTar(shard: string, keep?: (name: string) => boolean): Promise<TarMember[]> {
  let fh: FileHandle;
  try {
    fh = await open(shard, 'r');
  } catch (e) {
    throw new DataError(shard, `cannot open the tar shard (${why(e)})`);
  }
  try {
    return await readMembers(shard, new WindowReader(fh, (await fh.stat()).size), keep);
  } finally {
    await fh.close();
  }
}

async function readMembers(
  shard: string,
  r: WindowReader,
  keep?: (name: string) => boolean,
): Promise<TarMember[]> {
  const members: TarMember[] = [];
  let pos = 0;
  let longName: string | undefined;
  let last = '(the first member)';
  while (pos + BLOCK <= r.size) {
    const h = await r.read(pos, BLOCK);
    if (h.every((x) => x === 0)) return members; // the end-of-archive marker
    if (!checksumOk(h))
      throw new DataError(
        shard,
        `corrupt tar header at byte ${pos} (after ${last}): not a tar file, or damaged`,
      );
    const type = String.fromCharCode(h[156]!);
    const size = num(h, 124, 12);
    const prefix = h.subarray(257, 262).toString('ascii') === 'ustar' ? cstr(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const dataAt = pos + BLOCK;
    if (dataAt + size > r.size)
      throw new DataError(
        shard,
        `truncated: member ${name} needs ${size} bytes at byte ${dataAt}, the file ends at ${r.size}`,
      );
    longName = undefined;
    if (type === 'L') longName = cstr(await r.read(dataAt, size), 0, size);
    else if (type === 'x') longName = paxPath(await r.read(dataAt, size));
    else if (type === '0' || type === '\0' || type === '7') {
      const m: TarMember = { name, offset: dataAt, size };
      if (keep?.(name)) m.data = Buffer.from(await r.read(dataAt, size));
      members.push(m);
      last = name;
    }
    pos = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (pos < r.size) throw new DataError(shard, `truncated: the file ends inside the header after ${last}`);
  return members; // no end-of-archive marker: tolerated, as GNU tar does
}
