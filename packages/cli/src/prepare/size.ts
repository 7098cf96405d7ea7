// prepare/size.ts: byte sizes on the command line: a whole number of bytes with an optional unit,
// decimal (kB, MB, GB, TB: powers of 1000) or binary (KiB, MiB, GiB, TiB: powers of 1024); a bare
// K, M, G or T is binary. "1GiB", "512MiB", "1.5G", "1000000".
import { z } from 'zod';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** The bytes `text` spells, or undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte-size option of at least `min` bytes. */
export function sizeOption(min: number) {
  return z.unknown().transform((v, ctx): number => {
    if (typeof v !== 'string' && typeof v !== 'number') {
      ctx.addIssue({ code: 'custom', message: 'needs a value' });
      return z.NEVER;
    }
    const bytes = parseSize(String(v));
    if (bytes === undefined || bytes < min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a size of at least ${min} bytes (like 1GiB, 512MiB, 500MB or 1000000), got '${v}'`,
      });
      return z.NEVER;
    }
    return bytes;
  });
}
