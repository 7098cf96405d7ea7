// seed.ts: a 64-bit seed (bigint or safe integer number) split into the two u32 words of a Philox key.

/** key = [seed & 0xffffffff, seed >> 32]; throws unless 0 <= seed < 2^64 (numbers: safe integers). */
export function seedKey(seed: bigint | number): [number, number] {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer or a bigint, got ${seed}`);
    }
    return [(seed % 0x100000000) >>> 0, Math.floor(seed / 0x100000000) >>> 0];
  }
  if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`seed must be in [0, 2^64), got ${seed}`);
  return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
}

/** Checks that a counter word is a u32 and returns it. */
export function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be an integer in [0, 2^32), got ${value}`);
  }
  return value;
}
