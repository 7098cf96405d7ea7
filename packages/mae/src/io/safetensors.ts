// safetensors.ts: our own reader and writer for the safetensors format (8-byte little-endian
// header length N, N bytes of JSON header, then the raw little-endian tensor data). The header is
// validated completely (zod schema, offsets, sizes, overlaps, coverage) before any data is used;
// every tensor's data is copied into its own buffer so typed arrays are always aligned. Writing
// is deterministic (sorted order, header padded to 8 bytes) and can be done atomically.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

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

const ARRAY_CTOR = {
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

const METADATA_KEY = '__metadata__';
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Make a tensor of `dtype`, checking that `data` has the right type and length. */
export function stTensor<D extends StDType>(dtype: D, shape: number[], data: StArrayOf[D]): StTensorOf<D> {
  const t = { dtype, shape, data } as StTensorOf<D>;
  checkTensor(t as StTensor, 'tensor');
  return t;
}

// ---- header schema -------------------------------------------------------------------------

const nonNegInt = z.number().int().nonnegative();
const TensorEntry = z.object({
  dtype: z.enum(ST_DTYPES),
  shape: z.array(nonNegInt),
  data_offsets: z.tuple([nonNegInt, nonNegInt]),
});
type TensorEntry = z.infer<typeof TensorEntry>;
const Metadata = z.record(z.string(), z.string());

function entryProblem(entry: unknown, issue: z.core.$ZodIssue): string {
  const field = issue.path[0];
  const value = (key: string) =>
    entry && typeof entry === 'object' ? JSON.stringify((entry as Record<string, unknown>)[key]) : '';
  if (issue.path.length === 0) return `entry is not an object: ${JSON.stringify(entry)}`;
  if (field === 'dtype') {
    return `unknown dtype ${value('dtype')} (known: ${ST_DTYPES.join(', ')})`;
  }
  if (field === 'shape') return `shape must be a list of non-negative integers, got ${value('shape')}`;
  if (field === 'data_offsets') {
    return `data_offsets must be [begin, end] (non-negative integers), got ${value('data_offsets')}`;
  }
  return issue.message;
}

// ---- reading ---------------------------------------------------------------------------------

/** Parse a whole safetensors file held in memory. `source` names the file in error messages. */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): StFile {
  const fail = (msg: string): never => {
    throw new Error(`safetensors ${source}: ${msg}`);
  };
  if (!HOST_IS_LITTLE_ENDIAN) fail('big-endian hosts are not supported');
  if (buf.byteLength < 8) {
    fail(`file is ${buf.byteLength} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${n64} is absurdly large (limit ${MAX_HEADER_BYTES} bytes); not a safetensors file?`);
  }
  const n = Number(n64);
  if (8 + n > buf.byteLength) {
    fail(`header length ${n} runs past the end of the file (${buf.byteLength} bytes)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(`header is not a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;

  let metadata: Record<string, string> = {};
  const entries: [string, TensorEntry][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      const m = Metadata.safeParse(raw);
      if (!m.success) {
        fail(`__metadata__ must be an object of string values, got ${JSON.stringify(raw)}`);
      } else {
        metadata = m.data;
      }
      continue;
    }
    const r = TensorEntry.safeParse(raw);
    if (!r.success) fail(`tensor "${name}": ${entryProblem(raw, r.error.issues[0]!)}`);
    const e = r.data as TensorEntry;
    const [begin, end] = e.data_offsets;
    if (begin > end || end > dataLen) {
      fail(
        `tensor "${name}": data_offsets [${begin}, ${end}] are not within the data section (${dataLen} bytes)`,
      );
    }
    const want = numel(e.shape) * ST_DTYPE_SIZE[e.dtype];
    if (end - begin !== want) {
      fail(
        `tensor "${name}": data is ${end - begin} bytes but shape [${e.shape}] of ${e.dtype} needs ${want} bytes`,
      );
    }
    entries.push([name, e]);
  }

  // Non-empty tensors must not overlap and must cover the data section with no gaps.
  const ranges = entries
    .filter(([, e]) => e.data_offsets[1] > e.data_offsets[0])
    .sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  let cursor = 0;
  let prev = '';
  for (const [name, e] of ranges) {
    const [begin, end] = e.data_offsets;
    if (begin < cursor) fail(`tensors "${prev}" and "${name}" overlap (at data bytes ${begin}..${cursor})`);
    if (begin > cursor) fail(`data bytes ${cursor}..${begin} are not covered by any tensor`);
    cursor = end;
    prev = name;
  }
  if (cursor < dataLen) {
    fail(`${dataLen - cursor} trailing data bytes (${cursor}..${dataLen}) are not covered by any tensor`);
  }

  const tensors = new Map<string, StTensor>();
  for (const [name, e] of entries) {
    const [begin, end] = e.data_offsets;
    // Copy into a fresh ArrayBuffer, so the typed array is aligned whatever the file offset and
    // does not alias the input (Buffer#slice would return a view, hence the explicit copy).
    const bytes = new Uint8Array(end - begin);
    bytes.set(buf.subarray(dataStart + begin, dataStart + end));
    const data = new ARRAY_CTOR[e.dtype](bytes.buffer, 0, numel(e.shape));
    const t = { dtype: e.dtype, shape: e.shape, data } as StTensor;
    if (t.dtype === 'BOOL') checkBool(t.data, () => fail(`tensor "${name}": BOOL values must be 0 or 1`));
    tensors.set(name, t);
  }
  return { tensors, metadata };
}

/** Read and parse a safetensors file. */
export async function readSafetensors(path: string): Promise<StFile> {
  return parseSafetensors(await readFile(path), path);
}

// ---- writing ---------------------------------------------------------------------------------

function checkBool(data: Uint8Array, onBad: () => void): void {
  for (const v of data) if (v > 1) onBad();
}

function checkTensor(t: StTensor, what: string): void {
  const fail = (msg: string): never => {
    throw new Error(`safetensors: ${what}: ${msg}`);
  };
  if (!(ST_DTYPES as readonly string[]).includes(t.dtype)) {
    fail(`unknown dtype ${JSON.stringify(t.dtype)} (known: ${ST_DTYPES.join(', ')})`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`shape must be a list of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  const ctor = ARRAY_CTOR[t.dtype];
  if (!(t.data instanceof ctor)) {
    fail(`${t.dtype} data must be a ${ctor.name}, got ${t.data?.constructor?.name ?? typeof t.data}`);
  }
  if (t.data.length !== numel(t.shape)) {
    fail(`data has ${t.data.length} elements but shape [${t.shape}] needs ${numel(t.shape)}`);
  }
  if (t.dtype === 'BOOL') checkBool(t.data, () => fail('BOOL values must be 0 or 1'));
}

/**
 * Serialize tensors (and optional string metadata) to safetensors bytes. Deterministic: tensors
 * are laid out by element size (largest first) then by name, as the reference implementation
 * does, so every tensor's data is aligned to its element size; metadata keys are sorted; the
 * header is padded with spaces so the data section starts on an 8-byte boundary.
 */
export function serializeSafetensors(tensors: StTensors, metadata?: Record<string, string>): Uint8Array {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is not a valid tensor name`);
    checkTensor(t, `tensor "${name}"`);
  }
  list.sort(([an, a], [bn, b]) => ST_DTYPE_SIZE[b.dtype] - ST_DTYPE_SIZE[a.dtype] || (an < bn ? -1 : 1));

  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    const meta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      const v = metadata[k];
      if (typeof v !== 'string') {
        throw new Error(`safetensors: metadata "${k}" must be a string, got ${typeof v}`);
      }
      meta[k] = v;
    }
    header[METADATA_KEY] = meta;
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Write `bytes` to `path` atomically: write a temp file in the same folder, fsync it, rename it
 * over the target, fsync the folder. On any error the old file is untouched and the temp file is
 * removed.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let created = false;
  try {
    const fh = await open(tmp, 'wx');
    created = true;
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (e) {
    if (created) await unlink(tmp).catch(() => {});
    throw new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  // Make the rename durable. Some platforms cannot open or fsync a folder; the data is safe anyway.
  const dh = await open(dir, 'r').catch(() => undefined);
  if (dh) {
    try {
      await dh.sync();
    } catch {
      // ignore: not supported here
    } finally {
      await dh.close();
    }
  }
}

/** Serialize and write a safetensors file atomically (see `writeFileAtomic`). */
export async function writeSafetensorsAtomic(
  path: string,
  tensors: StTensors,
  metadata?: Record<string, string>,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = serializeSafetensors(tensors, metadata);
  } catch (e) {
    throw new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  await writeFileAtomic(path, bytes);
}
