// st_types.ts: the safetensors element types, their typed arrays and sizes, the tensor types the
// reader and writer use (full tensors, and lazy sources whose data is fetched only when written),
// and the checks every tensor passes before it is written.

/** The element types we read and write; F16 and BF16 are kept as raw bits. */
export const ST_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'U8', 'BOOL'] as const;
export type StDType = (typeof ST_DTYPES)[number];

/** The typed array that holds each dtype's data. */
export interface StArrayOf {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}
export type StData = StArrayOf[StDType];

/** One tensor of a given dtype: `data` has exactly `numel(shape)` elements, row-major. */
export interface StTensorOf<D extends StDType> {
  dtype: D;
  shape: number[];
  data: StArrayOf[D];
}
/** Any tensor; narrowing on `dtype` narrows `data`. */
export type StTensor = { [D in StDType]: StTensorOf<D> }[StDType];

export type StTensors = Map<string, StTensor> | Record<string, StTensor>;

/**
 * A tensor whose data is fetched only when the writer reaches it (e.g. downloaded from a device),
 * so a file can be written holding one tensor in memory at a time. dtype and shape must be known
 * up front: the header, which precedes the data, is computed from them.
 */
export interface StSourceOf<D extends StDType> {
  dtype: D;
  shape: number[];
  read(): Promise<StArrayOf[D]> | StArrayOf[D];
}
export type StSource = { [D in StDType]: StSourceOf<D> }[StDType];

/** What the streamed writer takes per name: a full tensor or a lazy source. */
export type StEntry = StTensor | StSource;
export type StEntries = Map<string, StEntry> | Record<string, StEntry>;

/** A whole file read into memory. */
export interface StFile {
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element. */
export const ST_DTYPE_SIZE: Record<StDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
};

/** The typed array constructor of each dtype. */
export const ST_ARRAY_CTOR = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as const;

/** Headers larger than this are rejected as corrupt (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** The header key of the string metadata (not a tensor name). */
export const METADATA_KEY = '__metadata__';

export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True for a lazy source, false for a full tensor. */
export function isSource(e: StEntry): e is StSource {
  return !('data' in e) && typeof (e as { read?: unknown }).read === 'function';
}

/** The bytes of a typed array (a view, no copy). */
export function bytesOf(data: StData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Throws (via onBad) unless every BOOL value is 0 or 1. */
export function checkBool(data: Uint8Array, onBad: () => void): void {
  for (const v of data) if (v > 1) onBad();
}

function failer(what: string) {
  return (msg: string): never => {
    throw new Error(`safetensors: ${what}: ${msg}`);
  };
}

/** Checks a dtype and shape (what a source declares before its data exists). */
export function checkDtypeShape(dtype: unknown, shape: unknown, what: string): void {
  const fail = failer(what);
  if (!(ST_DTYPES as readonly unknown[]).includes(dtype)) {
    fail(`unknown dtype ${JSON.stringify(dtype)} (known: ${ST_DTYPES.join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/** Checks that `data` is the dtype's typed array with numel(shape) elements (and BOOLs are 0/1). */
export function checkData(dtype: StDType, shape: readonly number[], data: unknown, what: string): void {
  const fail = failer(what);
  const ctor = ST_ARRAY_CTOR[dtype];
  if (!(data instanceof ctor)) {
    const got = (data as { constructor?: { name?: string } } | null | undefined)?.constructor?.name;
    fail(`${dtype} data must be a ${ctor.name}, got ${got ?? typeof data}`);
  }
  const n = (data as StData).length;
  if (n !== numel(shape)) fail(`data has ${n} elements but shape [${shape}] needs ${numel(shape)}`);
  if (dtype === 'BOOL') checkBool(data as Uint8Array, () => fail('BOOL values must be 0 or 1'));
}

/** Checks a full tensor: dtype, shape, data type, length and BOOL values. */
export function checkTensor(t: StTensor, what: string): void {
  checkDtypeShape(t.dtype, t.shape, what);
  checkData(t.dtype, t.shape, t.data, what);
}

/** Make a tensor of `dtype`, checking that `data` has the right type and length. */
export function stTensor<D extends StDType>(dtype: D, shape: number[], data: StArrayOf[D]): StTensorOf<D> {
  const t = { dtype, shape, data } as StTensorOf<D>;
  checkTensor(t as StTensor, 'tensor');
  return t;
}
