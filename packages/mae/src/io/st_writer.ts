// st_writer.ts: the streamed safetensors writer. The header is computed from every entry's dtype
// and shape, then each tensor's data is fetched (a lazy source is read only now) and written
// through the file handle in bounded chunks, one tensor in memory at a time, so files of any size
// can be written. The bytes are those of serializeSafetensors; the write is atomic (atomic.ts).
import { writeAtomic, writeFully } from './atomic.js';
import { layoutOf } from './st_header.js';
import {
  bytesOf,
  checkData,
  checkDtypeShape,
  checkTensor,
  HOST_IS_LITTLE_ENDIAN,
  isSource,
  type StData,
  type StEntries,
  type StEntry,
} from './st_types.js';

/** The entries as a checked list: full tensors checked completely, sources by dtype and shape. */
function checkedList(entries: StEntries): [string, StEntry][] {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  for (const [name, e] of list) {
    const what = `tensor "${name}"`;
    if (e === null || typeof e !== 'object') {
      throw new Error(`safetensors: ${what}: expected a tensor or a source, got ${JSON.stringify(e)}`);
    }
    if (isSource(e)) checkDtypeShape(e.dtype, e.shape, what);
    else checkTensor(e, what);
  }
  return list;
}

/** The data of an entry: a tensor's own, or a source's, read now and checked. */
async function dataOf(name: string, e: StEntry): Promise<StData> {
  if (!isSource(e)) return e.data;
  let data: StData;
  try {
    data = await e.read();
  } catch (err) {
    throw new Error(`tensor "${name}": ${(err as Error).message}`, { cause: err });
  }
  checkData(e.dtype, e.shape, data, `tensor "${name}"`);
  return data;
}

/**
 * Writes tensors and lazy sources (and optional string metadata) to `path` atomically, streaming:
 * each source is read only when its turn comes, and only one tensor's data is held at a time.
 * On any error (a bad tensor, a source that throws or returns the wrong data, a full disk) the
 * temp file is removed, the old file is left as it was, and the error is
 * `cannot write <path>: ...` (a source's own error is its `cause`).
 */
export async function writeSafetensorsAtomic(
  path: string,
  entries: StEntries,
  metadata?: Record<string, string>,
): Promise<void> {
  let layout: ReturnType<typeof layoutOf<StEntry>>;
  try {
    if (!HOST_IS_LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
    layout = layoutOf(checkedList(entries), metadata);
  } catch (e) {
    throw new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  await writeAtomic(path, async (fh) => {
    await writeFully(fh, layout.head, 0);
    let at = layout.head.byteLength;
    for (const { name, entry, bytes } of layout.order) {
      const data = await dataOf(name, entry);
      await writeFully(fh, bytesOf(data), at);
      at += bytes;
    }
  });
}
