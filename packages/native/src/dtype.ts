// dtype.ts: element types (names, mae_dtype codes, sizes, the typed array of each) and exact
// bit conversions f32 <-> bf16 and f32 <-> f16 (round to nearest even; NaN stays NaN).

/** Ordered so that the index is the mae_dtype code of the C ABI. */
export const DTYPES = ['f32', 'bf16', 'f16', 'i32', 'i64', 'u8', 'f64'] as const;
export type DType = (typeof DTYPES)[number];

export const DTYPE_CODES: Readonly<Record<DType, number>> = {
  f32: 0,
  bf16: 1,
  f16: 2,
  i32: 3,
  i64: 4,
  u8: 5,
  f64: 6,
};
export const DTYPE_SIZES: Readonly<Record<DType, number>> = {
  f32: 4,
  bf16: 2,
  f16: 2,
  i32: 4,
  i64: 8,
  u8: 1,
  f64: 8,
};

/** The typed array holding each dtype's elements; bf16/f16 are raw bits. */
export interface TypedArrayMap {
  f32: Float32Array;
  bf16: Uint16Array;
  f16: Uint16Array;
  i32: Int32Array;
  i64: BigInt64Array;
  u8: Uint8Array;
  f64: Float64Array;
}
export type TypedArrayOf<D extends DType> = TypedArrayMap[D];

const CONSTRUCTORS = {
  f32: Float32Array,
  bf16: Uint16Array,
  f16: Uint16Array,
  i32: Int32Array,
  i64: BigInt64Array,
  u8: Uint8Array,
  f64: Float64Array,
} as const;

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Checks a dtype name, throwing a TypeError that lists the valid ones. */
export function checkDType(x: unknown): DType {
  if (!isDType(x))
    throw new TypeError(`unknown dtype ${JSON.stringify(x)}: expected one of ${DTYPES.join(', ')}`);
  return x;
}

export function dtypeFromCode(code: number): DType {
  const d = DTYPES[code];
  if (d === undefined) throw new TypeError(`unknown dtype code ${code}`);
  return d;
}

export function isFloatDType(d: DType): boolean {
  return d === 'f32' || d === 'bf16' || d === 'f16' || d === 'f64';
}

/** A zeroed typed array of n elements for dtype d. */
export function allocTypedArray<D extends DType>(dtype: D, n: number): TypedArrayOf<D> {
  return new CONSTRUCTORS[dtype](n) as TypedArrayOf<D>;
}

/** Whether `data` is exactly the typed array type of dtype d. */
export function isTypedArrayOf<D extends DType>(dtype: D, data: unknown): data is TypedArrayOf<D> {
  return data instanceof CONSTRUCTORS[dtype];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f32 bit pattern of x (after rounding x to f32). */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** The f32 value of a bit pattern. */
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

/** bf16 bits of x rounded to f32 then to bf16 (nearest even); NaN stays a (quiet) NaN. */
export function f32ToBf16Bits(x: number): number {
  const u = f32Bits(x);
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return (u >>> 16) | 0x40;
  const bias = 0x7fff + ((u >>> 16) & 1);
  return ((u + bias) >>> 16) & 0xffff;
}

export function bf16BitsToF32(bits: number): number {
  return f32FromBits((bits & 0xffff) << 16);
}

/** f16 bits of x rounded to f32 then to f16 (nearest even; overflow gives inf, tiny values
 * subnormals or zero); NaN stays a (quiet) NaN. */
export function f32ToF16Bits(x: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = exp - 127 + 15; // f16 biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal f16 (or zero): value = m * 2^(e - 14 - 10) with the implicit bit made explicit.
    const shift = 14 - e;
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let k = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (k & 1) !== 0)) k++;
    return sign | k;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // may carry into the exponent (up to inf)
  return sign | h;
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export function f32ArrayToBf16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToBf16Bits(values[i]);
  return out;
}

export function bf16ArrayToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}

export function f32ArrayToF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}

export function f16ArrayToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToF32(bits[i]);
  return out;
}
