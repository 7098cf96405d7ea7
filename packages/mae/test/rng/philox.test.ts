// philox.test.ts: Philox4x32-10 against the Random123 known-answer vectors and an independent
// BigInt implementation; mulhi32 against BigInt.
import assert from 'node:assert/strict';
import { mulhi32, philox4x32, type U32x2, type U32x4 } from '../../src/rng/philox.js';

/** Straightforward Philox4x32-10 in BigInt, written from the paper's definition. */
function philoxBig(ctr: U32x4, key: U32x2): number[] {
  const mask = 0xffffffffn;
  let c = ctr.map((x) => BigInt(x));
  let k = key.map((x) => BigInt(x));
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c[0];
    const p1 = 0xcd9e8d57n * c[2];
    c = [(p1 >> 32n) ^ c[1] ^ k[0], p1 & mask, (p0 >> 32n) ^ c[3] ^ k[1], p0 & mask];
    k = [(k[0] + 0x9e3779b9n) & mask, (k[1] + 0xbb67ae85n) & mask];
  }
  return c.map((x) => Number(x));
}

const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join(' ');

/** Random123 kat_vectors, philox4x32 with 10 rounds: counter, key, expected output. */
const KAT: [U32x4, U32x2, string][] = [
  [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    '408f276d 41c83b0e a20bc7c6 6d5451fd',
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    'd16cfe09 94fdcceb 5001e420 24126ea1',
  ],
];

/** A small deterministic u32 sequence (xorshift32) for random cases. */
function* xorshift(seed: number): Generator<number> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    yield x;
  }
}

describe('philox4x32', () => {
  it('gives the Random123 known answers', () => {
    for (const [ctr, key, want] of KAT) assert.equal(hex(philox4x32(ctr, key)), want);
  });

  it('the BigInt reference gives the same known answers (so it can check the rest)', () => {
    for (const [ctr, key, want] of KAT) assert.equal(hex(philoxBig(ctr, key)), want);
  });

  it('equals the BigInt reference on random counters and keys', () => {
    const g = xorshift(12345);
    const next = () => g.next().value as number;
    for (let t = 0; t < 2000; t++) {
      const ctr: U32x4 = [next(), next(), next(), next()];
      const key: U32x2 = [next(), next()];
      assert.deepEqual(
        philox4x32(ctr, key),
        philoxBig(ctr, key),
        `counter ${hex([...ctr])} key ${hex([...key])}`,
      );
    }
  });

  it('writes into a given array and reduces inputs mod 2^32', () => {
    const out = [9, 9, 9, 9];
    assert.equal(philox4x32([2 ** 32, 0, 0, 0], [0, 0], out), out);
    assert.equal(hex(out), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  });
});

describe('mulhi32', () => {
  it('is the high word of the 64-bit product', () => {
    const g = xorshift(99);
    const cases: [number, number][] = [
      [0, 0],
      [0xffffffff, 0xffffffff],
      [0xffffffff, 1],
      [0x10000, 0x10000],
      [0xd2511f53, 0xffffffff],
      [0xcd9e8d57, 0x80000000],
    ];
    for (let t = 0; t < 5000; t++) cases.push([g.next().value as number, g.next().value as number]);
    for (const [a, b] of cases)
      assert.equal(mulhi32(a, b), Number((BigInt(a) * BigInt(b)) >> 32n), `${a} * ${b}`);
  });
});
