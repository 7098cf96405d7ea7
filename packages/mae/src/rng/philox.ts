// philox.ts: the Philox4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC'11; the Random123 library): a 128-bit counter and a 64-bit key map
// to 128 random bits through 10 rounds of 32x32->64 multiplies. Exact 32-bit arithmetic in plain
// numbers (no BigInt), so the same words come out of the CUDA backend's device function.

export type U32x4 = readonly [number, number, number, number];
export type U32x2 = readonly [number, number];

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/**
 * The high 32 bits of the 64-bit product of two u32s. b is split in 16-bit halves so every
 * intermediate stays an exact double (< 2^53): a*b = a*bHi*2^16 + a*bLo.
 */
export function mulhi32(a: number, b: number): number {
  const x = a * (b & 0xffff); // < 2^48
  const y = a * (b >>> 16); // < 2^48
  const t = y + Math.floor(x / 0x10000); // floor(a*b / 2^16), < 2^49
  return Math.floor(t / 0x10000) >>> 0;
}

/**
 * Philox4x32-10 of one counter block under a key; writes the 4 output words to `out` (or a new
 * array). Inputs are taken modulo 2^32.
 */
export function philox4x32(counter: U32x4, key: U32x2, out: number[] = [0, 0, 0, 0]): number[] {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}
