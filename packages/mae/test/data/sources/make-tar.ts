// make-tar.ts (test helper): writes tar files byte by byte, so tests control every header: ustar
// entries, GNU long names ('L'), and non-regular entries (folders, symlinks).
import { writeFileSync } from 'node:fs';

export interface Entry {
  name: string;
  data?: Uint8Array | string;
  /** tar type flag: '0' file (default), '5' folder, '2' symlink, ... */
  type?: string;
  /** write the name as a GNU 'L' long-name entry first (automatic above 100 bytes) */
  longName?: boolean;
}

function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('14000000000\0', 136);
  h.write(type, 156);
  h.write('ustar  \0', 257); // the GNU magic
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

/** The bytes of a tar holding the entries, ended by two zero blocks. */
export function tarBytes(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    if (e.longName || Buffer.byteLength(e.name) > 100) {
      const long = Buffer.from(e.name + '\0');
      parts.push(header('././@LongLink', long.length, 'L'), pad(long));
    }
    parts.push(header(e.name, data.length, e.type ?? '0'), pad(data));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function writeTar(file: string, entries: Entry[]): void {
  writeFileSync(file, tarBytes(entries));
}
