// st_header.ts: the safetensors header, both ways. Reading: the 8-byte length is checked against
// the limit and the file size, then the JSON is validated completely (zod schema, offsets within
// the data section, sizes matching dtype and shape, no overlaps, no gaps, no trailing bytes)
// before any data is used. Writing: the deterministic layout (largest element size first, then by
// name; metadata keys sorted; JSON padded with spaces to 8 bytes) shared by the in-memory
// serializer and the streamed writer, so both give the same bytes.
import { z } from 'zod';
import { MAX_HEADER_BYTES, METADATA_KEY, numel, ST_DTYPE_SIZE, ST_DTYPES, type StDType } from './st_types.js';

/** Throws an error naming the file; every header problem goes through one of these. */
export type Fail = (msg: string) => never;

/** An error the reader raised itself (its message already names the file). */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** A Fail that throws `safetensors <source>: <msg>`. */
export function failFor(source: string): Fail {
  return (msg) => {
    throw new SafetensorsError(`safetensors ${source}: ${msg}`);
  };
}

/** A validated tensor entry: offsets are relative to the start of the data section. */
export interface StHeaderEntry {
  dtype: StDType;
  shape: number[];
  begin: number;
  end: number;
}

export interface StHeader {
  /** tensors in header order */
  entries: Map<string, StHeaderEntry>;
  metadata: Record<string, string>;
}

const NOT_SAFETENSORS = 'not a safetensors file';

// ---- reading ---------------------------------------------------------------------------------

/**
 * Checks the header length read from the first 8 bytes against the limit and the file size;
 * returns it as a number. Failures here mean the file is not a safetensors file at all.
 */
export function checkHeaderLength(n64: bigint, fileSize: number, fail: Fail): number {
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`${NOT_SAFETENSORS}: header length ${n64} is absurdly large (limit ${MAX_HEADER_BYTES} bytes)`);
  }
  const n = Number(n64);
  if (8 + n > fileSize) {
    fail(`${NOT_SAFETENSORS}: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  return n;
}

/** The message for a file shorter than the 8-byte length prefix. */
export function tooShort(fileSize: number): string {
  return `${NOT_SAFETENSORS}: file is ${fileSize} bytes, shorter than the 8-byte header length`;
}

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

function decodeJson(json: Uint8Array, fail: Fail): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    fail(`${NOT_SAFETENSORS}: header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(`${NOT_SAFETENSORS}: header is not a JSON object`);
  }
  return header as Record<string, unknown>;
}

function checkEntry(name: string, raw: unknown, dataLen: number, fail: Fail): StHeaderEntry {
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
  return { dtype: e.dtype, shape: e.shape, begin, end };
}

/** Non-empty tensors must not overlap and must cover the data section with no gaps. */
function checkCoverage(entries: Map<string, StHeaderEntry>, dataLen: number, fail: Fail): void {
  const ranges = [...entries].filter(([, e]) => e.end > e.begin).sort(([, a], [, b]) => a.begin - b.begin);
  let cursor = 0;
  let prev = '';
  for (const [name, e] of ranges) {
    if (e.begin < cursor)
      fail(`tensors "${prev}" and "${name}" overlap (at data bytes ${e.begin}..${cursor})`);
    if (e.begin > cursor) fail(`data bytes ${cursor}..${e.begin} are not covered by any tensor`);
    cursor = e.end;
    prev = name;
  }
  if (cursor < dataLen) {
    fail(`${dataLen - cursor} trailing data bytes (${cursor}..${dataLen}) are not covered by any tensor`);
  }
}

/** Parses and validates the JSON header, given the length of the data section that follows it. */
export function parseHeader(json: Uint8Array, dataLen: number, fail: Fail): StHeader {
  const header = decodeJson(json, fail);
  let metadata: Record<string, string> = {};
  const entries = new Map<string, StHeaderEntry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      const m = Metadata.safeParse(raw);
      if (!m.success) fail(`__metadata__ must be an object of string values, got ${JSON.stringify(raw)}`);
      metadata = m.data as Record<string, string>;
      continue;
    }
    entries.set(name, checkEntry(name, raw, dataLen, fail));
  }
  checkCoverage(entries, dataLen, fail);
  return { entries, metadata };
}

// ---- writing ---------------------------------------------------------------------------------

/** The layout of a file to write: header bytes (length prefix included) and tensors in order. */
export interface StLayout<T extends { dtype: StDType; shape: readonly number[] }> {
  /** the 8-byte length, then the padded JSON; the data section starts right after */
  head: Uint8Array;
  /** name, entry and byte length, in file order */
  order: { name: string; entry: T; bytes: number }[];
  /** total bytes of the data section */
  dataBytes: number;
}

function sortedMetadata(metadata: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!metadata || Object.keys(metadata).length === 0) return undefined;
  const meta: Record<string, string> = {};
  for (const k of Object.keys(metadata).sort()) {
    const v = metadata[k];
    if (typeof v !== 'string')
      throw new Error(`safetensors: metadata "${k}" must be a string, got ${typeof v}`);
    meta[k] = v;
  }
  return meta;
}

/**
 * The deterministic layout: tensors by element size (largest first) then by name, as the
 * reference implementation does, so every tensor's data is aligned to its element size; metadata
 * keys sorted; the JSON padded with spaces so the data section starts on an 8-byte boundary.
 * Entries must have been checked (dtype, shape) already.
 */
export function layoutOf<T extends { dtype: StDType; shape: readonly number[] }>(
  list: [string, T][],
  metadata?: Record<string, string>,
): StLayout<T> {
  for (const [name] of list) {
    if (name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is not a valid tensor name`);
  }
  const sorted = [...list].sort(
    ([an, a], [bn, b]) => ST_DTYPE_SIZE[b.dtype] - ST_DTYPE_SIZE[a.dtype] || (an < bn ? -1 : 1),
  );
  const header: Record<string, unknown> = {};
  const meta = sortedMetadata(metadata);
  if (meta) header[METADATA_KEY] = meta;
  let offset = 0;
  const order: StLayout<T>['order'] = [];
  for (const [name, entry] of sorted) {
    const bytes = numel(entry.shape) * ST_DTYPE_SIZE[entry.dtype];
    header[name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + bytes] };
    order.push({ name, entry, bytes });
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, order, dataBytes: offset };
}
