// numbers.ts: zod schemas for numeric options given on the command line (strings from argv),
// shared by the commands. A value is refused with a message that says what is wanted and what was
// given, e.g. "must be a whole number from 1 to 1000000, got 1e12" or "must be a number, got
// 'NaN'"; never zod's "expected number, received number". An option given without a value (true
// from the argv parser) is refused as "needs a value" by validateOptions.
import { z } from 'zod';

/** The largest batch the step commands accept (the device noise counts rows below 2^24). */
export const MAX_BATCH = 2 ** 24;
/** The most steps the step commands accept (the lr table holds one row per step). */
export const MAX_STEPS = 1_000_000;

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** True when the text spells a number (decimal, optional sign and exponent; no NaN, no hex). */
export function isNumberText(v: string): boolean {
  return NUMBER.test(v.trim());
}

export interface Range {
  /** smallest allowed value (inclusive) */
  readonly min?: number;
  /** largest allowed value (inclusive) */
  readonly max?: number;
  /** values must be above 0 */
  readonly positive?: boolean;
}

/** The number a command-line value spells, or a message saying why it is not one. */
function readNumber(v: unknown): number | string {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return 'needs a value';
  if (!isNumberText(v)) return `must be a number, got '${v}'`;
  return Number(v);
}

/** What a value must be, for messages: "a whole number from 1 to 100", "a number above 0". */
function wanted(integer: boolean, r: Range): string {
  const what = integer ? 'a whole number' : 'a number';
  if (r.min !== undefined && r.max !== undefined) return `${what} from ${r.min} to ${r.max}`;
  if (r.positive) return `${what} above 0${r.max === undefined ? '' : ` and at most ${r.max}`}`;
  if (r.min !== undefined) return `${what} of at least ${r.min}`;
  if (r.max !== undefined) return `${what} of at most ${r.max}`;
  return `a finite ${integer ? 'whole number' : 'number'}`;
}

/** The problem with x for the range, or undefined when it is allowed. */
export function checkNumber(x: number, integer: boolean, r: Range): string | undefined {
  const ok =
    Number.isFinite(x) &&
    (!integer || Number.isInteger(x)) &&
    (r.min === undefined || x >= r.min) &&
    (r.max === undefined || x <= r.max) &&
    (!r.positive || x > 0);
  return ok ? undefined : `must be ${wanted(integer, r)}`;
}

/** v as a number within the range, or the message refusing it ("..., got 1e12"). */
function readInRange(v: unknown, integer: boolean, r: Range): number | string {
  const x = readNumber(v);
  if (typeof x === 'string') return x;
  const problem = checkNumber(x, integer, r);
  return problem === undefined ? x : `${problem}, got ${String(v)}`;
}

function numeric(integer: boolean, r: Range) {
  return z.unknown().transform((v, ctx): number => {
    const x = readInRange(v, integer, r);
    if (typeof x === 'number') return x;
    ctx.addIssue({ code: 'custom', message: x });
    return z.NEVER;
  });
}

/** A whole-number option within [min, max]. */
export const intOption = (r: Range & { min: number; max: number }) => numeric(true, r);

/** A finite number option (optionally within a range or above 0). */
export const numberOption = (r: Range = {}) => numeric(false, r);

/** A comma-separated list of whole numbers, each within [min, max] ("64" or "64,256"). */
export function intListOption(r: { min: number; max: number }) {
  return z.unknown().transform((v, ctx): number[] => {
    const parts = typeof v === 'string' ? v.split(',') : [v];
    const out: number[] = [];
    for (const p of parts) {
      const x = readInRange(p, true, r);
      if (typeof x === 'string') {
        ctx.addIssue({ code: 'custom', message: `${parts.length > 1 ? 'each value ' : ''}${x}` });
        return z.NEVER;
      }
      out.push(x);
    }
    return out;
  });
}
