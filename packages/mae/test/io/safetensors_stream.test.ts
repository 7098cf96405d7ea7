// safetensors_stream.test.ts: the streamed writer and the opened reader. The writer gives exactly
// the bytes of the in-memory serializer (random tensors of every dtype, scalars, empty tensors,
// lazy sources sync and async), reads each source only when its turn comes, writes tensors over
// the 64 MiB chunk size, and on any failure (a throwing or lying source, a file-size limit)
// removes its temp file and leaves the old file as it was. The reader reads single tensors, into
// fresh arrays or a caller's, and refuses what is not a safetensors file in one line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  IO_CHUNK_BYTES,
  openSafetensors,
  readSafetensors,
  ST_DTYPES,
  type StData,
  type StDType,
  type StEntry,
  type StTensor,
  serializeSafetensors,
  stTensor,
  writeSafetensorsAtomic,
} from '../../src/io/safetensors.js';
import { ST_ARRAY_CTOR } from '../../src/io/st_types.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAFETENSORS_TS = fileURLToPath(new URL('../../src/io/safetensors.ts', import.meta.url));

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(dtype: StDType, shape: number[], next: () => number): StTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new ST_ARRAY_CTOR[dtype](n) as StData;
  const bytes = new Uint8Array(data.buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
  if (dtype === 'BOOL') for (let i = 0; i < n; i++) bytes[i]! &= 1;
  return { dtype, shape, data } as StTensor;
}

/** Random tensors of every dtype, with scalars and empty tensors among them. */
function randomTensors(seed: number): Map<string, StTensor> {
  const next = rng(seed);
  const out = new Map<string, StTensor>();
  const shapes = [[], [0], [3, 0], [1], [7], [2, 3], [5, 1, 3], [17, 4]];
  for (const dtype of ST_DTYPES) {
    for (let k = 0; k < 3; k++) {
      const shape = shapes[Math.floor(next() * shapes.length)]!;
      out.set(`${dtype.toLowerCase()}.${k}.${Math.floor(next() * 1000)}`, randomTensor(dtype, shape, next));
    }
  }
  return out;
}

/** The same tensors, every third one a sync source and every third an async one. */
function asEntries(tensors: Map<string, StTensor>, reads: string[] = []): Map<string, StEntry> {
  const out = new Map<string, StEntry>();
  let k = 0;
  for (const [name, t] of tensors) {
    const kind = k++ % 3;
    if (kind === 0) out.set(name, t);
    else if (kind === 1)
      out.set(name, {
        dtype: t.dtype,
        shape: t.shape,
        read: () => {
          reads.push(name);
          return t.data;
        },
      } as StEntry);
    else
      out.set(name, {
        dtype: t.dtype,
        shape: t.shape,
        read: async () => {
          reads.push(name);
          await new Promise((r) => setTimeout(r, 1));
          return t.data;
        },
      } as StEntry);
  }
  return out;
}

const bytesOf = (d: StData) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);

describe('safetensors streamed writer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-st-stream-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const leftovers = async () => (await readdir(dir)).filter((f) => f.includes('.tmp-'));

  it('writes exactly the bytes of serializeSafetensors (every dtype, scalars, empty tensors, sources)', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const tensors = randomTensors(seed);
      const meta = seed % 2 ? { b: 'two', a: 'ünï ✓' } : undefined;
      const path = join(dir, `r${seed}.safetensors`);
      const reads: string[] = [];
      await writeSafetensorsAtomic(path, asEntries(tensors, reads), meta);
      const want = Buffer.from(serializeSafetensors(tensors, meta));
      assert.ok((await readFile(path)).equals(want), `seed ${seed}: bytes differ`);
      assert.equal(new Set(reads).size, reads.length, 'each source read once');
      assert.equal(reads.length, [...tensors.keys()].filter((_, i) => i % 3 !== 0).length);
      const back = await readSafetensors(path);
      assert.deepEqual(back.metadata, meta ?? {});
      for (const [name, t] of tensors) {
        const got = back.tensors.get(name)!;
        assert.equal(got.dtype, t.dtype, name);
        assert.deepEqual(got.shape, t.shape, name);
        assert.ok(bytesOf(got.data).equals(bytesOf(t.data)), name);
      }
    }
    assert.deepEqual(await leftovers(), []);
  });

  it('reads each source only when its data is due: everything before it is already on disk', async () => {
    const next = rng(9);
    const tensors = new Map<string, StTensor>();
    for (let i = 0; i < 6; i++) tensors.set(`t${i}`, randomTensor('F32', [1000 + i], next));
    const expected = serializeSafetensors(tensors);
    const headLen = 8 + Number(new DataView(expected.buffer).getBigUint64(0, true));
    const seen: [string, number][] = [];
    const entries = new Map<string, StEntry>();
    for (const [name, t] of tensors) {
      entries.set(name, {
        dtype: 'F32',
        shape: t.shape,
        read: async () => {
          const [tmp] = await leftovers();
          seen.push([name, (await stat(join(dir, tmp!))).size]);
          return t.data as Float32Array;
        },
      });
    }
    await writeSafetensorsAtomic(join(dir, 'x.safetensors'), entries);
    // sorted by name; tensor i starts after i earlier tensors of 1000 + j floats
    let offset = headLen;
    seen.forEach(([name, size], i) => {
      assert.equal(name, `t${i}`);
      assert.equal(size, offset, `${name} was fetched before the tensors ahead of it were written`);
      offset += (1000 + i) * 4;
    });
    assert.equal(seen.length, 6);
  });

  it('writes and reads a tensor larger than the 64 MiB chunk, and one into a caller array', async () => {
    const n = IO_CHUNK_BYTES / 4 + 12345;
    const big = new Float32Array(n);
    for (let i = 0; i < n; i += 997) big[i] = i;
    big[n - 1] = -3.5;
    const path = join(dir, 'big.safetensors');
    await writeSafetensorsAtomic(path, {
      big: { dtype: 'F32', shape: [n], read: () => big },
      i: stTensor('I64', [2], new BigInt64Array([-1n, 2n ** 62n])),
    });
    const r = await openSafetensors(path);
    try {
      assert.deepEqual(r.names().sort(), ['big', 'i']);
      assert.deepEqual(r.info('big'), { dtype: 'F32', shape: [n], byteLength: n * 4 });
      const got = await r.read('big');
      assert.ok(bytesOf(got.data).equals(bytesOf(big)));
      // into a view at an offset of a larger buffer
      const holder = new BigInt64Array(5);
      const t = await r.read('i', holder.subarray(2, 4));
      assert.deepEqual([...holder], [0n, 0n, -1n, 2n ** 62n, 0n]);
      assert.equal(t.data.buffer, holder.buffer);
    } finally {
      await r.close();
    }
  });

  it('removes its temp file and keeps the old file when a source throws midway', async () => {
    const path = join(dir, 'x.safetensors');
    await writeSafetensorsAtomic(path, { old: stTensor('U8', [3], new Uint8Array([1, 2, 3])) });
    const before = await readFile(path);
    const boom = new Error('device lost');
    const entries: Record<string, StEntry> = {
      a: stTensor('F32', [1000], new Float32Array(1000).fill(1)),
      b: { dtype: 'F32', shape: [10], read: () => Promise.reject(boom) },
      c: stTensor('F32', [10], new Float32Array(10)),
    };
    await assert.rejects(writeSafetensorsAtomic(path, entries), (e: Error) => {
      assert.match(e.message, /^cannot write .*x\.safetensors: tensor "b": device lost$/);
      assert.equal((e.cause as Error).cause, boom);
      return true;
    });
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await readdir(dir), ['x.safetensors']);
  });

  it('refuses a source that gives the wrong data, naming it, and keeps the old file', async () => {
    const path = join(dir, 'x.safetensors');
    await writeSafetensorsAtomic(path, { old: stTensor('U8', [1], new Uint8Array([9])) });
    const before = await readFile(path);
    const cases: [StEntry, RegExp][] = [
      [
        { dtype: 'F32', shape: [3], read: () => new Float32Array(2) },
        /"s": data has 2 elements but shape \[3\]/,
      ],
      [
        { dtype: 'F32', shape: [2], read: () => new Float64Array(2) as unknown as Float32Array },
        /"s": F32 data must be a Float32Array, got Float64Array/,
      ],
      [{ dtype: 'BOOL', shape: [1], read: () => new Uint8Array([2]) }, /"s": BOOL values must be 0 or 1/],
      [
        { dtype: 'X8', shape: [1], read: () => new Uint8Array(1) } as unknown as StEntry,
        /"s": unknown dtype "X8"/,
      ],
      [{ dtype: 'U8', shape: [-1], read: () => new Uint8Array(1) }, /"s": shape must be a list/],
    ];
    for (const [s, re] of cases) {
      await assert.rejects(
        writeSafetensorsAtomic(path, { a: stTensor('U8', [1], new Uint8Array(1)), s }),
        re,
      );
    }
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await readdir(dir), ['x.safetensors']);
  });

  it('removes its temp file and keeps the old file when the file-size limit is hit (EFBIG)', async () => {
    const path = join(dir, 'x.safetensors');
    await writeSafetensorsAtomic(path, { old: stTensor('U8', [3], new Uint8Array([1, 2, 3])) });
    const before = await readFile(path);
    // a child under `ulimit -f 1024` (512 KiB) writes 1 MiB; Node ignores SIGXFSZ, so write fails
    const code = `
      const { writeSafetensorsAtomic } = await import(${JSON.stringify(SAFETENSORS_TS)});
      const data = new Float32Array(1 << 18).fill(1);
      try {
        await writeSafetensorsAtomic(${JSON.stringify(path)}, { big: { dtype: 'F32', shape: [1 << 18], read: () => data } });
        console.log('written');
      } catch (e) { console.log(e.message); }`;
    const { stdout } = await promisify(execFile)(
      'sh',
      ['-c', 'ulimit -f 1024 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, code],
      { cwd: PACKAGE_ROOT },
    );
    assert.match(stdout, /cannot write .*x\.safetensors: EFBIG/);
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await readdir(dir), ['x.safetensors']);
  });
});

describe('safetensors reader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-st-reader-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const tensors = () => ({
    a: stTensor('F32', [2, 2], new Float32Array([1, 2, 3, 4])),
    b: stTensor('I32', [3], new Int32Array([-1, 0, 1])),
    z: stTensor('BOOL', [2], new Uint8Array([1, 0])),
  });

  it('gives names, infos and metadata from the header, and single tensors on demand', async () => {
    const path = join(dir, 'ok.safetensors');
    await writeSafetensorsAtomic(path, tensors(), { k: 'v' });
    const r = await openSafetensors(path);
    assert.deepEqual(r.metadata, { k: 'v' });
    assert.deepEqual(r.names(), ['a', 'b', 'z']);
    assert.ok(r.has('b') && !r.has('c'));
    assert.equal(r.info('c'), undefined);
    assert.deepEqual(r.infos().get('b'), { dtype: 'I32', shape: [3], byteLength: 12 });
    assert.deepEqual([...(await r.read('b')).data], [-1, 0, 1]);
    assert.deepEqual([...(await r.read('a')).data], [1, 2, 3, 4]);
    await assert.rejects(r.read('c'), /safetensors .*ok\.safetensors: no tensor "c" in this file/);
    await assert.rejects(
      r.read('a', new Float64Array(4) as unknown as Float32Array),
      /tensor "a": the destination must be a Float32Array of 4 elements, got a Float64Array of 4 elements/,
    );
    await assert.rejects(
      r.read('a', new Float32Array(3)),
      /destination must be a Float32Array of 4 elements/,
    );
    await r.close();
    await r.close();
    await assert.rejects(r.read('a'), /ok\.safetensors: cannot read tensor "a": the reader is closed/);
  });

  it('names the tensor when the file is cut short after opening', async () => {
    const path = join(dir, 'cut.safetensors');
    await writeSafetensorsAtomic(path, tensors());
    const r = await openSafetensors(path);
    try {
      await truncate(path, (await stat(path)).size - 4);
      // the layout is a, b (4-byte elements), z (BOOL): the cut takes z and half of b
      assert.deepEqual([...(await r.read('a')).data], [1, 2, 3, 4]);
      await assert.rejects(
        r.read('b'),
        /cut\.safetensors: tensor "b": the file ended at byte \d+, inside the tensor/,
      );
    } finally {
      await r.close();
    }
  });

  it('refuses what is not a safetensors file in one line naming it', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'hello, this is not a tensor file\n'.repeat(100));
    const folder = join(dir, 'folder.safetensors');
    await mkdir(folder);
    const cases: [string, RegExp][] = [
      [text, /not a safetensors file: header length \d+ is absurdly large/],
      [folder, /not a safetensors file: it is a directory/],
      [join(dir, 'missing.safetensors'), /cannot open: ENOENT/],
    ];
    for (const [path, re] of cases) {
      await assert.rejects(openSafetensors(path), (e: Error) => {
        assert.match(e.message, re);
        assert.ok(e.message.startsWith(`safetensors ${path}: `), e.message);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
  });
});
