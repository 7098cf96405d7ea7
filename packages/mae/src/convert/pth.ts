// pth.ts: PyTorch checkpoints written by torch.save (the zip format of PyTorch >= 1.6): the
// state_dict in `<archive>/data.pkl`, unpickled by the restricted unpickler with an allowlist of
// exactly what a state_dict needs (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and the
// torch.*Storage types), each tensor's bytes in `<archive>/data/<key>` (persistent ids). The
// official MAE files hold {'model': state_dict}; a bare state_dict is read as well.
import { numel, ST_ARRAY_CTOR, ST_DTYPE_SIZE, type StDType, type StTensor } from '../io/st_types.js';
import { PickleError, type PyGlobal, unpickle } from './pickle.js';
import { ZipError, ZipReader } from './zip.js';

export class PthError extends Error {}

/** torch.<Name>Storage -> the element type of its data. */
const STORAGES: Record<string, StDType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage a persistent id names: the zip member `data/<key>` holding `count` elements. */
interface StorageRef {
  dtype: StDType;
  key: string;
  count: number;
}
/** A tensor the pickle describes: a strided view of a storage. */
interface TensorRef {
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

const isInts = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, shape, stride] = args;
  if (!(storage as StorageRef)?.key || !Number.isSafeInteger(offset) || !isInts(shape) || !isInts(stride))
    throw new PickleError(`_rebuild_tensor_v2 with unexpected arguments`);
  if (shape.length !== stride.length)
    throw new PickleError('_rebuild_tensor_v2: size and stride differ in rank');
  return { storage: storage as StorageRef, offset: offset as number, shape, stride };
}

const ALLOWED = 'collections.OrderedDict, torch._utils._rebuild_tensor_v2 and torch.*Storage';

function torchGlobals(): Map<string, PyGlobal> {
  const g = new Map<string, PyGlobal>();
  g.set('collections.OrderedDict', {
    kind: 'callable',
    name: 'collections.OrderedDict',
    call: (args) => {
      if (args.length > 1 || (args.length === 1 && !Array.isArray(args[0])))
        throw new PickleError('collections.OrderedDict called with arguments other than a list of pairs');
      return new Map((args[0] as [unknown, unknown][] | undefined) ?? []);
    },
  });
  g.set('torch._utils._rebuild_tensor_v2', {
    kind: 'callable',
    name: 'torch._utils._rebuild_tensor_v2',
    call: rebuildTensor,
  });
  for (const name of Object.keys(STORAGES)) g.set(`torch.${name}`, { kind: 'marker', name });
  return g;
}

/** ('storage', torch.XStorage, key, location, numel) -> a StorageRef. */
function storageOf(pid: unknown): StorageRef {
  const [tag, type, key, , count] = Array.isArray(pid) ? pid : [];
  const t = type as PyGlobal | undefined;
  if (tag !== 'storage' || t?.kind !== 'marker' || typeof key !== 'string' || !Number.isSafeInteger(count))
    throw new PickleError(`unexpected persistent id ${JSON.stringify(pid)}`);
  return { dtype: STORAGES[t.name]!, key, count: count as number };
}

/** The elements of a strided view, row-major, copied out of the storage's elements. */
function gather<A extends { length: number; [i: number]: unknown }>(src: A, t: TensorRef, dst: A): void {
  const n = numel(t.shape);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let at = t.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d]! * t.stride[d]!;
    dst[k] = src[at];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < t.shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** The tensor's data as its dtype's typed array (its own copy). */
function materialise(bytes: Uint8Array, t: TensorRef, name: string, fail: (m: string) => never): StTensor {
  const { dtype, count } = t.storage;
  const size = ST_DTYPE_SIZE[dtype];
  if (bytes.length !== count * size)
    fail(`tensor ${name}: its storage holds ${bytes.length} bytes, expected ${count} x ${size} (truncated?)`);
  const Ctor = ST_ARRAY_CTOR[dtype];
  const storage = new Ctor(count);
  new Uint8Array(storage.buffer).set(bytes);
  const n = numel(t.shape);
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) if (t.shape[d]! > 0) last += (t.shape[d]! - 1) * t.stride[d]!;
  if (n > 0 && last >= count) fail(`tensor ${name}: its view reaches past its storage (${count} elements)`);
  const data = new Ctor(n);
  gather(storage as never, t, data as never);
  return { dtype, shape: [...t.shape], data } as StTensor;
}

/** The state_dict of the unpickled object: obj['model'] when there is one, else obj itself. */
function stateDictOf(obj: unknown, fail: (m: string) => never): Map<string, TensorRef> {
  if (!(obj instanceof Map)) return fail('the pickle does not hold a dict');
  const inner = obj.get('model');
  const sd = inner instanceof Map ? inner : obj;
  const out = new Map<string, TensorRef>();
  for (const [k, v] of sd) {
    if (typeof k !== 'string' || !(v as TensorRef)?.storage)
      fail(
        `entry ${JSON.stringify(k)} is not a tensor (a state_dict, or {'model': state_dict}, is expected)`,
      );
    out.set(k, v as TensorRef);
  }
  return out;
}

/** The member names' archive folder (torch names it after the file): the one holding data.pkl. */
function archivePrefix(zip: ZipReader, fail: (m: string) => never): string {
  const pkl = [...zip.members.keys()].find((n) => n === 'data.pkl' || /^[^/]+\/data\.pkl$/.test(n));
  return pkl === undefined ? fail('no data.pkl in the archive (not a torch.save file?)') : pkl.slice(0, -8);
}

/** Reads an official MAE (or any PyTorch state_dict) .pth file: tensors by name, in file order. */
export async function readPth(path: string): Promise<Map<string, StTensor>> {
  const fail = (msg: string): never => {
    throw new PthError(`${path}: ${msg}`);
  };
  let zip: ZipReader;
  try {
    zip = await ZipReader.open(path);
  } catch (e) {
    if (e instanceof ZipError)
      fail(
        `not a PyTorch zip checkpoint (${e.message.replace(`${path}: `, '')}); files saved before PyTorch 1.6 must be re-saved with torch.save`,
      );
    throw e;
  }
  try {
    const prefix = archivePrefix(zip, fail);
    if (zip.members.has(`${prefix}byteorder`)) {
      const order = new TextDecoder().decode(await zip.read(`${prefix}byteorder`));
      if (order !== 'little') fail(`byte order '${order}' is not supported`);
    }
    const pickled = unpickle(await zip.read(`${prefix}data.pkl`), {
      globals: torchGlobals(),
      allowed: ALLOWED,
      persistentLoad: storageOf,
      source: `${path}: data.pkl`,
    });
    const out = new Map<string, StTensor>();
    for (const [name, t] of stateDictOf(pickled, fail)) {
      const bytes = await zip.read(`${prefix}data/${t.storage.key}`);
      out.set(name, materialise(bytes, t, name, fail));
    }
    return out;
  } catch (e) {
    if (e instanceof ZipError || e instanceof PickleError) throw new PthError(e.message, { cause: e });
    throw e;
  } finally {
    await zip.close();
  }
}
