// values.ts: what the reference-semantics tests share: seeded uniform values (a 32-bit LCG, so the
// same seed gives the same values everywhere) and an f64 closeness check.
import assert from 'node:assert/strict';

/** n values uniform in [lo, hi) from seed. */
export const rand = (n: number, seed: number, lo = -1, hi = 1) => {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
};

/** a equals b to f64 rounding (1e-12 relative, absolute near 0). */
export const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);
