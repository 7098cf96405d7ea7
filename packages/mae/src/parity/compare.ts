// compare.ts: the error measures of the parity check, as the fixture README defines them.

export interface Check {
  readonly quantity: string;
  readonly measure: 'rel' | 'max/absmax' | 'relnorm' | 'maxabs' | 'exact';
  readonly error: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

const num = (x: ArrayLike<number> | ArrayLike<bigint>, i: number) => Number(x[i]!);

function sizes(q: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>) {
  if (a.length !== b.length)
    throw new Error(`${q}: ${a.length} values computed but the fixture has ${b.length}`);
}

/** |x - ref| / |ref| of a scalar. */
export function relScalar(quantity: string, x: number, ref: number, tolerance: number): Check {
  const error = Math.abs(x - ref) / Math.max(Math.abs(ref), 1e-30);
  return { quantity, measure: 'rel', error, tolerance, ok: error <= tolerance };
}

/** max |x - ref| / max |ref|. */
export function maxOverAbsMax(
  quantity: string,
  x: ArrayLike<number>,
  ref: ArrayLike<number>,
  tolerance: number,
): Check {
  sizes(quantity, x, ref);
  let e = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(x[i]! - ref[i]!);
    e = Number.isNaN(d) || d > e ? (Number.isNaN(d) ? Number.POSITIVE_INFINITY : d) : e;
    m = Math.max(m, Math.abs(ref[i]!));
  }
  const error = e / Math.max(m, 1e-30);
  return { quantity, measure: 'max/absmax', error, tolerance, ok: error <= tolerance };
}

/** ||x - ref|| / ||ref||. */
export function relNorm(
  quantity: string,
  x: ArrayLike<number>,
  ref: ArrayLike<number>,
  tolerance: number,
): Check {
  sizes(quantity, x, ref);
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num2 += (x[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  const error = Number.isNaN(num2)
    ? Number.POSITIVE_INFINITY
    : Math.sqrt(num2) / Math.max(Math.sqrt(den), 1e-30);
  return { quantity, measure: 'relnorm', error, tolerance, ok: error <= tolerance };
}

/** The number of differing elements (must be 0). */
export function exact(
  quantity: string,
  x: ArrayLike<number> | ArrayLike<bigint>,
  ref: ArrayLike<number> | ArrayLike<bigint>,
): Check {
  sizes(quantity, x, ref);
  let diff = 0;
  for (let i = 0; i < ref.length; i++) if (num(x, i) !== num(ref, i)) diff++;
  return { quantity, measure: 'exact', error: diff, tolerance: 0, ok: diff === 0 };
}
