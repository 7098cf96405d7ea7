// finite.ts: finding NaN and ±Inf in float tensors (one fast pass, a counting pass only when
// something is wrong), and the error that names the tensor, the file, how many values are bad and
// the first of them, so a checkpoint is never written from, nor resumed from, diverged weights.
import type { StData, StDType } from './st_types.js';

/** How many values are not finite, and the first of them. */
export interface NonFiniteStats {
  count: number;
  /** index of the first non-finite value (row-major) */
  index: number;
  /** that value: NaN, Infinity or -Infinity */
  value: number;
}

/** The non-finite values of `data`, or undefined when every value is finite. */
export function nonFiniteStats(data: Float32Array | Float64Array): NonFiniteStats | undefined {
  // x * 0 is 0 (or -0) for every finite x and NaN otherwise; the sum stays 0 unless one is bad.
  let acc = 0;
  for (let i = 0; i < data.length; i++) acc += data[i]! * 0;
  if (acc === 0) return undefined;
  let count = 0;
  let index = -1;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) {
      if (count === 0) index = i;
      count++;
    }
  }
  return { count, index, value: data[index]! };
}

/** The float dtypes whose values are checked; other dtypes are always finite (or raw bits). */
export function isCheckedFloat(dtype: StDType): dtype is 'F32' | 'F64' {
  return dtype === 'F32' || dtype === 'F64';
}

/** nonFiniteStats for the checked float dtypes; undefined for every other dtype. */
export function nonFiniteOf(dtype: StDType, data: StData): NonFiniteStats | undefined {
  return isCheckedFloat(dtype) ? nonFiniteStats(data as Float32Array | Float64Array) : undefined;
}

function valueName(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Inf' : '-Inf';
}

/** `<tensor> has 12 non-finite values (first: Inf at index 5)` */
export function describeNonFinite(tensor: string, s: NonFiniteStats): string {
  const values = s.count === 1 ? 'value' : 'values';
  return `${tensor} has ${s.count} non-finite ${values} (first: ${valueName(s.value)} at index ${s.index})`;
}

/** A tensor with NaN or ±Inf values where only finite ones are acceptable. */
export class NonFiniteTensorError extends Error {
  override name = 'NonFiniteTensorError';
  /** the tensor's name in the file, e.g. `optimizer.exp_avg.blocks.0.attn.qkv.weight` */
  readonly tensor: string;
  /** the file being written or read */
  readonly path: string;
  /** how many values are not finite */
  readonly count: number;
  /** the first of them and where it is */
  readonly index: number;
  readonly value: number;

  constructor(message: string, fields: { tensor: string; path: string } & NonFiniteStats) {
    super(message);
    this.tensor = fields.tensor;
    this.path = fields.path;
    this.count = fields.count;
    this.index = fields.index;
    this.value = fields.value;
  }
}

/** The first NonFiniteTensorError in e's chain of causes (e included). */
export function nonFiniteCause(e: unknown): NonFiniteTensorError | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 16; c = c.cause, depth++) {
    if (c instanceof NonFiniteTensorError) return c;
  }
  return undefined;
}
