// safetensors.ts: our own reader and writer for the safetensors format (8-byte little-endian
// header length N, N bytes of JSON header, then the raw little-endian tensor data). This module
// is the one to import: the in-memory parse and serialize live here; files are read and written
// streamed through a file handle (st_reader.ts, st_writer.ts), so their size is not limited by
// what one buffer can hold. The header is validated completely (st_header.ts) before any data is
// used; every tensor's data is copied into its own buffer so typed arrays are always aligned.
// Writing is deterministic (sorted order, header padded to 8 bytes) and atomic (atomic.ts).
import { checkHeaderLength, failFor, layoutOf, parseHeader, tooShort } from './st_header.js';
import {
  bytesOf,
  checkBool,
  checkTensor,
  HOST_IS_LITTLE_ENDIAN,
  numel,
  ST_ARRAY_CTOR,
  type StFile,
  type StTensor,
  type StTensors,
} from './st_types.js';

export { IO_CHUNK_BYTES, tempPathFor, writeAtomic, writeFileAtomic } from './atomic.js';
export { SafetensorsError } from './st_header.js';
export {
  openSafetensors,
  readSafetensors,
  SafetensorsReader,
  type StTensorInfo,
  withSafetensors,
} from './st_reader.js';
export {
  MAX_HEADER_BYTES,
  numel,
  ST_DTYPE_SIZE,
  ST_DTYPES,
  type StArrayOf,
  type StData,
  type StDType,
  type StEntries,
  type StEntry,
  type StFile,
  type StSource,
  type StSourceOf,
  type StTensor,
  type StTensorOf,
  type StTensors,
  stTensor,
} from './st_types.js';
export { writeSafetensorsAtomic } from './st_writer.js';

/** Parse a whole safetensors file held in memory. `source` names the file in error messages. */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): StFile {
  const fail = failFor(source);
  if (!HOST_IS_LITTLE_ENDIAN) fail('big-endian hosts are not supported');
  if (buf.byteLength < 8) fail(tooShort(buf.byteLength));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = checkHeaderLength(view.getBigUint64(0, true), buf.byteLength, fail);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(buf.subarray(8, dataStart), buf.byteLength - dataStart, fail);
  const tensors = new Map<string, StTensor>();
  for (const [name, e] of entries) {
    // Copy into a fresh ArrayBuffer, so the typed array is aligned whatever the file offset and
    // does not alias the input (Buffer#slice would return a view, hence the explicit copy).
    const data = new ST_ARRAY_CTOR[e.dtype](numel(e.shape));
    bytesOf(data).set(buf.subarray(dataStart + e.begin, dataStart + e.end));
    if (e.dtype === 'BOOL') {
      checkBool(data as Uint8Array, () => fail(`tensor "${name}": BOOL values must be 0 or 1`));
    }
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data } as StTensor);
  }
  return { tensors, metadata };
}

/**
 * Serialize tensors (and optional string metadata) to safetensors bytes, in memory (so limited
 * to what one buffer can hold; files are written with writeSafetensorsAtomic, which streams).
 * Deterministic: tensors are laid out by element size (largest first) then by name, as the
 * reference implementation does, so every tensor's data is aligned to its element size; metadata
 * keys are sorted; the header is padded with spaces so the data section starts on an 8-byte
 * boundary.
 */
export function serializeSafetensors(tensors: StTensors, metadata?: Record<string, string>): Uint8Array {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of list) checkTensor(t, `tensor "${name}"`);
  const { head, order, dataBytes } = layoutOf(list, metadata);
  const out = new Uint8Array(head.byteLength + dataBytes);
  out.set(head);
  let at = head.byteLength;
  for (const { entry, bytes } of order) {
    out.set(bytesOf(entry.data), at);
    at += bytes;
  }
  return out;
}
