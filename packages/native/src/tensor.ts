// tensor.ts: Tensor<D>, a typed handle on a native tensor (dtype D, shape, device): creation
// (empty, zeros, fromArray), reads back to typed arrays (async and sync, with bf16/f16 decoding),
// views, copies, byte fills and disposal.
import { binding, type NativeTensor } from './binding.js';
import {
  type Device,
  type DeviceSpec,
  deviceFromNative,
  deviceToString,
  deviceTypeCode,
  parseDevice,
} from './device.js';
import {
  allocTypedArray,
  bf16ArrayToF32,
  checkDType,
  DTYPE_CODES,
  DTYPE_SIZES,
  type DType,
  dtypeFromCode,
  f16ArrayToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  isTypedArrayOf,
  type TypedArrayOf,
} from './dtype.js';
import type { Stream } from './stream.js';

/** What Tensor.fromArray accepts: the dtype's typed array, numbers (values, converted), and also
 * Float32Array values for bf16/f16 and bigint[] for i64. */
export type TensorData<D extends DType> =
  | TypedArrayOf<D>
  | readonly number[]
  | (D extends 'bf16' | 'f16' ? Float32Array : never)
  | (D extends 'i64' ? readonly bigint[] : never);

/** Checks a shape: at most 8 non-negative safe integers. Returns a frozen copy. */
export function checkShape(shape: readonly number[], where: string): readonly number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: shape must be an array of integers`);
  if (shape.length > 8)
    throw new TypeError(`${where}: shape [${shape.join(', ')}] has more than 8 dimensions`);
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new TypeError(`${where}: shape [${shape.join(', ')}] must contain non-negative integers`);
    }
  }
  return Object.freeze([...shape]);
}

export function shapeNumel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The tensors created inside the innermost `freeAfter`, if any. */
let created: Tensor[] | undefined;

/**
 * Runs fn and frees every tensor and view it created (empty, zeros, fromArray, view) except those
 * keep(result) lists (a kept view keeps its storage; views of older tensors only let go). The
 * caching allocator then reuses the memory at once instead of when the garbage collector gets to
 * the handles (it does not see native memory), so an eager loop runs in a steady footprint. On
 * CUDA the freed memory goes to later allocations whose work is ordered after fn's on the same
 * stream; keep whatever another stream still reads. When fn throws, all it created is freed.
 */
export function freeAfter<T>(fn: () => T, keep: (result: T) => readonly Tensor[]): T {
  const outer = created;
  const mine: Tensor[] = [];
  created = mine;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    created = outer;
    for (const t of mine) t.dispose();
    throw e;
  }
  created = outer;
  const kept = new Set<Tensor>(keep(result));
  for (const t of mine) {
    if (kept.has(t)) outer?.push(t);
    else t.dispose();
  }
  return result;
}

/**
 * Runs fn with tensor tracking off: what it creates outlives an enclosing `freeAfter` (for what a
 * model creates on first use and keeps, e.g. a constant).
 */
export function untracked<T>(fn: () => T): T {
  const outer = created;
  created = undefined;
  try {
    return fn();
  } finally {
    created = outer;
  }
}

export class Tensor<D extends DType = DType> {
  readonly handle: NativeTensor;
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly device: Device;
  readonly numel: number;

  private constructor(handle: NativeTensor, dtype: D) {
    this.handle = handle;
    this.dtype = dtype;
    this.shape = Object.freeze([...handle.shape]);
    this.device = deviceFromNative(handle.device);
    this.numel = handle.numel;
  }

  /** Wraps a NativeTensor (e.g. one a generated op returned); checks the dtype when given. */
  static wrap<D extends DType = DType>(handle: NativeTensor, dtype?: D): Tensor<D> {
    const actual = dtypeFromCode(handle.dtype);
    if (dtype !== undefined && dtype !== actual) {
      throw new TypeError(`Tensor.wrap: expected a ${dtype} tensor, got ${actual}`);
    }
    return new Tensor(handle, actual as D);
  }

  /** An uninitialised tensor. */
  static empty<D extends DType>(
    dtype: D,
    shape: readonly number[],
    device: DeviceSpec | Device = 'cpu',
  ): Tensor<D> {
    checkDType(dtype);
    const s = checkShape(shape, 'Tensor.empty');
    const d = parseDevice(device);
    const t = new Tensor(binding.tensorCreate(DTYPE_CODES[dtype], [...s], deviceTypeCode(d), d.index), dtype);
    created?.push(t);
    return t;
  }

  static zeros<D extends DType>(
    dtype: D,
    shape: readonly number[],
    device: DeviceSpec | Device = 'cpu',
  ): Tensor<D> {
    const t = Tensor.empty(dtype, shape, device);
    t.zero();
    return t;
  }

  /** A tensor holding data (row-major; data.length must equal the shape's element count). */
  static fromArray<D extends DType>(
    dtype: D,
    shape: readonly number[],
    data: TensorData<D>,
    device: DeviceSpec | Device = 'cpu',
  ): Tensor<D> {
    checkDType(dtype);
    const s = checkShape(shape, 'Tensor.fromArray');
    const n = shapeNumel(s);
    if (data.length !== n) {
      throw new TypeError(
        `Tensor.fromArray: ${data.length} values given for shape [${s.join(', ')}] (${n} elements)`,
      );
    }
    const host = toTypedArray(dtype, data);
    const t = Tensor.empty(dtype, s, device);
    t.handle.copyFromHost(host);
    return t;
  }

  get nbytes(): number {
    return this.numel * DTYPE_SIZES[this.dtype];
  }

  /** Copies the data to a new typed array without blocking the event loop. */
  async toArray(stream?: Stream): Promise<TypedArrayOf<D>> {
    const out = allocTypedArray(this.dtype, this.numel);
    await this.handle.copyToHost(out, stream?.handle ?? null);
    return out;
  }

  toArraySync(): TypedArrayOf<D> {
    const out = allocTypedArray(this.dtype, this.numel);
    this.handle.copyToHostSync(out);
    return out;
  }

  /** The values as f32 (bf16/f16 decoded, integers converted). */
  async toFloat32Array(): Promise<Float32Array> {
    const data: TypedArrayOf<DType> = await this.toArray();
    if (this.dtype === 'bf16') return bf16ArrayToF32(data as Uint16Array);
    if (this.dtype === 'f16') return f16ArrayToF32(data as Uint16Array);
    if (data instanceof Float32Array) return data;
    if (data instanceof BigInt64Array) return Float32Array.from(data, (x) => Number(x));
    return Float32Array.from(data as ArrayLike<number>);
  }

  /** The values as f64 (bf16/f16 decoded, integers converted). */
  async toFloat64Array(): Promise<Float64Array> {
    const data: TypedArrayOf<DType> = await this.toArray();
    if (this.dtype === 'bf16') return Float64Array.from(bf16ArrayToF32(data as Uint16Array));
    if (this.dtype === 'f16') return Float64Array.from(f16ArrayToF32(data as Uint16Array));
    if (data instanceof Float64Array) return data;
    if (data instanceof BigInt64Array) return Float64Array.from(data, (x) => Number(x));
    return Float64Array.from(data as ArrayLike<number>);
  }

  /** A view sharing this tensor's storage: another shape, starting offsetElements in. */
  view(shape: readonly number[], offsetElements = 0): Tensor<D> {
    const s = checkShape(shape, 'Tensor.view');
    if (!Number.isSafeInteger(offsetElements) || offsetElements < 0) {
      throw new TypeError(`Tensor.view: offset ${offsetElements} must be a non-negative integer`);
    }
    const v = new Tensor(this.handle.view([...s], offsetElements), this.dtype);
    created?.push(v);
    return v;
  }

  /** Writes host data (this tensor's element count, row-major) into this tensor's storage. */
  write(data: TensorData<D>): this {
    if (data.length !== this.numel)
      throw new TypeError(`Tensor.write: ${data.length} values given for ${this.numel} elements`);
    this.handle.copyFromHost(toTypedArray(this.dtype, data));
    return this;
  }

  /** Copies src (same dtype and element count, any device) into this tensor. */
  copyFrom(src: Tensor<D>, stream?: Stream): this {
    if (src.dtype !== this.dtype) {
      throw new TypeError(`Tensor.copyFrom: source dtype ${src.dtype} does not match ${this.dtype}`);
    }
    this.handle.copyFrom(src.handle, stream?.handle ?? null);
    return this;
  }

  /** Sets every byte to `byte` (0..255). */
  fillBytes(byte: number, stream?: Stream): this {
    this.handle.fillBytes(byte, stream?.handle ?? null);
    return this;
  }

  zero(stream?: Stream): this {
    return this.fillBytes(0, stream);
  }

  /** Fills with 0xFF bytes: NaN for the float dtypes, -1 for the signed integers. */
  poison(stream?: Stream): this {
    return this.fillBytes(0xff, stream);
  }

  /** Frees the storage (once no view uses it); later use throws "tensor was released". */
  dispose(): void {
    this.handle.release();
  }

  toString(): string {
    return `Tensor<${this.dtype}>[${this.shape.join(', ')}] on ${deviceToString(this.device)}`;
  }
}

function toTypedArray<D extends DType>(dtype: D, data: TensorData<D>): TypedArrayOf<D> {
  if (isTypedArrayOf(dtype, data)) return data;
  const where = `Tensor.fromArray(${dtype})`;
  switch (dtype) {
    case 'bf16':
    case 'f16': {
      if (!(data instanceof Float32Array) && !Array.isArray(data)) {
        throw new TypeError(`${where}: expected a Uint16Array (raw bits), a Float32Array or numbers`);
      }
      const values = data as ArrayLike<number>;
      return (dtype === 'bf16' ? f32ArrayToBf16(values) : f32ArrayToF16(values)) as TypedArrayOf<D>;
    }
    case 'i64': {
      if (!Array.isArray(data)) throw new TypeError(`${where}: expected a BigInt64Array, numbers or bigints`);
      return BigInt64Array.from(data as readonly (number | bigint)[], (x) => {
        if (typeof x === 'bigint') return x;
        if (!Number.isSafeInteger(x)) throw new TypeError(`${where}: ${x} is not a safe integer`);
        return BigInt(x);
      }) as TypedArrayOf<D>;
    }
    default: {
      if (!Array.isArray(data)) throw new TypeError(`${where}: expected a ${dtype} typed array or numbers`);
      const values = data as readonly number[];
      if (dtype === 'i32' || dtype === 'u8') {
        const [lo, hi] = dtype === 'u8' ? [0, 255] : [-(2 ** 31), 2 ** 31 - 1];
        for (const x of values) {
          if (!Number.isInteger(x) || x < lo || x > hi) {
            throw new TypeError(`${where}: ${x} is not an integer in ${lo}..${hi}`);
          }
        }
      }
      const out = allocTypedArray(dtype, values.length) as
        | Float32Array
        | Float64Array
        | Int32Array
        | Uint8Array;
      out.set(values);
      return out as TypedArrayOf<D>;
    }
  }
}
