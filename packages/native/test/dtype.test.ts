// dtype.test.ts: dtype tables and the exact f32 <-> bf16 / f16 bit conversions.
import assert from 'node:assert/strict';
import {
  allocTypedArray,
  bf16ArrayToF32,
  bf16BitsToF32,
  checkDType,
  DTYPE_CODES,
  DTYPE_SIZES,
  DTYPES,
  dtypeFromCode,
  f16ArrayToF32,
  f16BitsToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32FromBits,
  f32ToBf16Bits,
  f32ToF16Bits,
} from '../src/dtype.js';

const fromBits = f32FromBits;

describe('dtype tables', () => {
  it('codes match mae_dtype and the DTYPES order', () => {
    assert.deepEqual(DTYPE_CODES, { f32: 0, bf16: 1, f16: 2, i32: 3, i64: 4, u8: 5, f64: 6 });
    DTYPES.forEach((d, i) => {
      assert.equal(dtypeFromCode(i), d);
    });
    assert.throws(() => dtypeFromCode(7), /unknown dtype code 7/);
  });

  it('sizes match the typed arrays', () => {
    for (const d of DTYPES) assert.equal(allocTypedArray(d, 3).byteLength, 3 * DTYPE_SIZES[d]);
    assert.ok(allocTypedArray('i64', 1) instanceof BigInt64Array);
    assert.ok(allocTypedArray('bf16', 1) instanceof Uint16Array);
  });

  it('checkDType names the valid dtypes', () => {
    assert.throws(
      () => checkDType('f8'),
      (e: Error) => e instanceof TypeError && /f32, bf16, f16/.test(e.message),
    );
  });
});

describe('f32 -> bf16 bits', () => {
  const cases: [number, number, string][] = [
    [0x3f800000, 0x3f80, '1'],
    [0xc0000000, 0xc000, '-2'],
    [0x80000000, 0x8000, '-0'],
    [0x3f808000, 0x3f80, 'tie rounds to even (down)'],
    [0x3f818000, 0x3f82, 'tie rounds to even (up)'],
    [0x3f808001, 0x3f81, 'just above the tie'],
    [0x3f807fff, 0x3f80, 'just below the tie'],
    [0x7f800000, 0x7f80, 'inf'],
    [0xff800000, 0xff80, '-inf'],
    [0x7f7fffff, 0x7f80, 'max float rounds to inf'],
    [0x00000001, 0x0000, 'smallest subnormal rounds to 0'],
    [0x00010000, 0x0001, 'a bf16 subnormal'],
    [0x00018000, 0x0002, 'subnormal tie to even'],
  ];
  for (const [f32, bf16, name] of cases) {
    it(`${name}: 0x${f32.toString(16)} -> 0x${bf16.toString(16)}`, () => {
      assert.equal(f32ToBf16Bits(fromBits(f32)), bf16);
    });
  }

  it('keeps NaN a NaN (even one whose payload is only in the low bits)', () => {
    assert.equal(f32ToBf16Bits(Number.NaN) & 0x7fc0, 0x7fc0);
    const low = f32ToBf16Bits(fromBits(0x7f800001));
    assert.equal(low & 0x7f80, 0x7f80);
    assert.notEqual(low & 0x7f, 0);
    assert.ok(Number.isNaN(bf16BitsToF32(low)));
    assert.equal(f32ToBf16Bits(fromBits(0xffc00000)), 0xffc0);
  });

  it('decodes bits exactly', () => {
    assert.equal(bf16BitsToF32(0x3f80), 1);
    assert.equal(bf16BitsToF32(0x0001), 2 ** -133);
    assert.equal(bf16BitsToF32(0xff80), Number.NEGATIVE_INFINITY);
    assert.ok(Object.is(bf16BitsToF32(0x8000), -0));
  });

  it('round-trips every non-NaN bf16 pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0) continue;
      assert.equal(f32ToBf16Bits(bf16BitsToF32(h)), h);
    }
  });

  it('array helpers agree with the scalar ones', () => {
    const values = new Float32Array([1, -2.5, 3.3, 1e-40, Number.NaN]);
    const bits = f32ArrayToBf16(values);
    assert.deepEqual([...bits], [...values].map(f32ToBf16Bits));
    const back = bf16ArrayToF32(bits);
    assert.equal(back[0], 1);
    assert.equal(back[1], -2.5);
    assert.ok(Number.isNaN(back[4]));
  });
});

describe('f32 -> f16 bits', () => {
  const cases: [number, number, string][] = [
    [1, 0x3c00, '1'],
    [-2, 0xc000, '-2'],
    [-0, 0x8000, '-0'],
    [65504, 0x7bff, 'max f16'],
    [65519, 0x7bff, 'below the overflow tie'],
    [65520, 0x7c00, 'overflow tie rounds to inf'],
    [1e10, 0x7c00, 'overflow'],
    [Number.POSITIVE_INFINITY, 0x7c00, 'inf'],
    [Number.NEGATIVE_INFINITY, 0xfc00, '-inf'],
    [1 + 2 ** -11, 0x3c00, 'tie rounds to even (down)'],
    [1 + 3 * 2 ** -11, 0x3c02, 'tie rounds to even (up)'],
    [2 ** -14, 0x0400, 'smallest normal'],
    [1023 * 2 ** -24, 0x03ff, 'largest subnormal'],
    [2 ** -24, 0x0001, 'smallest subnormal'],
    [2 ** -25, 0x0000, 'half the smallest subnormal ties to 0'],
    [1.5 * 2 ** -25, 0x0001, 'above that tie'],
    [3 * 2 ** -25, 0x0002, 'subnormal tie to even'],
    [1e-30, 0x0000, 'underflow'],
    [(2 ** 11 - 1) * 2 ** -25, 0x0400, 'rounds up into the normals'],
  ];
  for (const [x, h, name] of cases) {
    it(`${name}: ${x} -> 0x${h.toString(16)}`, () => assert.equal(f32ToF16Bits(x), h));
  }

  it('keeps NaN a NaN', () => {
    for (const bits of [0x7fc00000, 0x7f800001, 0xffc00000]) {
      const h = f32ToF16Bits(fromBits(bits));
      assert.equal(h & 0x7c00, 0x7c00);
      assert.notEqual(h & 0x3ff, 0);
    }
  });

  it('decodes bits exactly', () => {
    assert.equal(f16BitsToF32(0x0001), 2 ** -24);
    assert.equal(f16BitsToF32(0x7bff), 65504);
    assert.equal(f16BitsToF32(0x7c00), Number.POSITIVE_INFINITY);
    assert.equal(f16BitsToF32(0xfc00), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
    assert.ok(Object.is(f16BitsToF32(0x8000), -0));
  });

  it('round-trips every non-NaN f16 pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
      assert.equal(f32ToF16Bits(f16BitsToF32(h)), h);
    }
  });

  it('array helpers agree with the scalar ones', () => {
    const values = [0.5, -1.25, 1000, 2 ** -20];
    assert.deepEqual([...f16ArrayToF32(f32ArrayToF16(values))], values);
  });
});
