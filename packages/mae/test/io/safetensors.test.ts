// safetensors.test.ts: the safetensors reader and writer: round trips for every dtype, bytes that
// are deterministic and aligned, the real parity fixtures, every corruption with its message (the
// same from the in-memory parser and from the file reader), and atomic writes that leave the old
// file intact and no temp file behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  numel,
  parseSafetensors,
  readSafetensors,
  ST_DTYPE_SIZE,
  type StTensor,
  serializeSafetensors,
  stTensor,
  writeSafetensorsAtomic,
} from '../../src/io/safetensors.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURES = join(REPO_ROOT, '..', 'shared', 'fixtures', 'mae-parity');

function bytesOf(t: StTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function assertSameTensor(got: StTensor | undefined, want: StTensor, name: string): void {
  assert.ok(got, `${name} is missing`);
  assert.equal(got.dtype, want.dtype, name);
  assert.deepEqual(got.shape, want.shape, name);
  assert.equal(got.data.constructor, want.data.constructor, name);
  assert.ok(bytesOf(got).equals(bytesOf(want)), `${name}: data differs`);
}

/** A file by hand: header length (default: the JSON's length), header text, data bytes. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), n?: bigint): Uint8Array {
  const json =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, n ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function allDtypes(): Record<string, StTensor> {
  return {
    f64: stTensor('F64', [2, 3], new Float64Array([1.5, -0, Number.NaN, Infinity, -1e300, 5e-324])),
    f32: stTensor('F32', [4], new Float32Array([1, -2.5, Number.NaN, -Infinity])),
    f16: stTensor('F16', [3], new Uint16Array([0x3c00, 0x7e00, 0xfbff])),
    bf16: stTensor('BF16', [1, 3], new Uint16Array([0x3f80, 0xff80, 0x0001])),
    i64: stTensor('I64', [3], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n])),
    i32: stTensor('I32', [2], new Int32Array([-(2 ** 31), 2 ** 31 - 1])),
    u8: stTensor('U8', [5], new Uint8Array([0, 1, 127, 128, 255])),
    bool: stTensor('BOOL', [2, 2], new Uint8Array([1, 0, 0, 1])),
    scalar: stTensor('F32', [], new Float32Array([3.25])),
    empty: stTensor('F64', [0], new Float64Array(0)),
    empty3d: stTensor('I64', [2, 0, 3], new BigInt64Array(0)),
    odd_f16: stTensor('F16', [1], new Uint16Array([0x1234])),
    odd_u8: stTensor('U8', [3], new Uint8Array([9, 8, 7])),
  };
}

describe('safetensors: round trips', () => {
  it('every dtype, scalar and empty tensors, and metadata survive serialize + parse', () => {
    const tensors = allDtypes();
    const meta = { format: 'pt', note: 'ünïcode ✓' };
    const { tensors: back, metadata } = parseSafetensors(serializeSafetensors(tensors, meta));
    assert.deepEqual(metadata, meta);
    assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) assertSameTensor(back.get(name), t, name);
    const i64 = back.get('i64')!;
    assert.equal(i64.dtype, 'I64');
    if (i64.dtype === 'I64') assert.equal(i64.data[0], -(2n ** 63n));
  });

  it('a file with no tensors and no metadata round trips', () => {
    const bytes = serializeSafetensors({});
    const { tensors, metadata } = parseSafetensors(bytes);
    assert.equal(tensors.size, 0);
    assert.deepEqual(metadata, {});
  });

  it('typed arrays that are views into a larger buffer serialize only their own elements', () => {
    const big = new Float32Array([9, 1, 2, 3, 9]);
    const view = big.subarray(1, 4);
    const { tensors } = parseSafetensors(serializeSafetensors({ v: stTensor('F32', [3], view) }));
    assert.deepEqual([...tensors.get('v')!.data], [1, 2, 3]);
  });
});

describe('safetensors: deterministic and aligned bytes', () => {
  it('gives the same bytes whatever the insertion order, and again after a parse', () => {
    const tensors = allDtypes();
    const a = serializeSafetensors(tensors, { b: '2', a: '1' });
    const reversed = new Map(Object.entries(tensors).reverse());
    const b = serializeSafetensors(reversed, { a: '1', b: '2' });
    assert.ok(Buffer.from(a).equals(Buffer.from(b)));
    const parsed = parseSafetensors(a);
    const c = serializeSafetensors(parsed.tensors, parsed.metadata);
    assert.ok(Buffer.from(a).equals(Buffer.from(c)));
  });

  it('pads the header to 8 bytes and aligns every tensor to its element size', () => {
    const bytes = serializeSafetensors(allDtypes(), { x: 'y' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    assert.match(headerText, /^\{.*\} *$/);
    const header = JSON.parse(headerText) as Record<string, { dtype: keyof typeof ST_DTYPE_SIZE }>;
    for (const [name, e] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const [begin] = (e as unknown as { data_offsets: [number, number] }).data_offsets;
      assert.equal((8 + n + begin) % ST_DTYPE_SIZE[e.dtype], 0, `${name} at ${begin}`);
    }
  });

  it('reads tensors at odd offsets into aligned, independent typed arrays', () => {
    const data = new Uint8Array(4 + 8 + 1);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 1.25, true);
    dv.setBigInt64(4, -7n, true);
    data[12] = 200;
    // 'x' pads the header to an odd length, so the data section starts at an odd offset
    const header = `${JSON.stringify({
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'I64', shape: [], data_offsets: [4, 12] },
      c: { dtype: 'U8', shape: [1], data_offsets: [12, 13] },
    })}    `;
    const file = build(header, data);
    assert.equal((8 + new TextEncoder().encode(header).length) % 2, 1);
    // and the whole file sits at an odd offset of a larger buffer
    const holder = new Uint8Array(file.length + 3);
    holder.set(file, 3);
    const input = holder.subarray(3);
    const { tensors } = parseSafetensors(input);
    const a = tensors.get('a')!;
    const b = tensors.get('b')!;
    assert.ok(a.data instanceof Float32Array && a.data.byteOffset % 4 === 0);
    assert.ok(b.data instanceof BigInt64Array && b.data.byteOffset % 8 === 0);
    assert.equal(a.data[0], 1.25);
    assert.equal(b.data[0], -7n);
    assert.equal(tensors.get('c')!.data[0], 200);
    input.fill(0);
    assert.equal(a.data[0], 1.25, 'parsed data must not alias the input buffer');
    // a Node Buffer (what readFile gives), whose slice() is a view, not a copy
    const buffer = Buffer.from(file);
    const fromBuffer = parseSafetensors(buffer).tensors;
    buffer.fill(0);
    assert.equal(fromBuffer.get('b')!.data[0], -7n);
    assert.equal(fromBuffer.get('b')!.data.byteOffset, 0);
  });
});

describe('safetensors: the parity fixtures', () => {
  const dirs = existsSync(FIXTURES)
    ? readdirSync(FIXTURES)
        .map((d) => join(FIXTURES, d))
        .filter((d) => statSync(d).isDirectory())
    : [];

  before(function () {
    if (dirs.length === 0) {
      console.log(`    (skipped: no parity fixtures at ${FIXTURES})`);
      this.skip();
    }
  });

  it('reads every fixture file, and re-serializing gives the same tensors', async () => {
    for (const dir of dirs) {
      for (const f of ['weights', 'inputs', 'expected', 'after_steps']) {
        const path = join(dir, `${f}.safetensors`);
        const { tensors, metadata } = await readSafetensors(path);
        assert.ok(tensors.size > 0, path);
        for (const [name, t] of tensors) {
          assert.ok(t.dtype === 'F32' || t.dtype === 'I64', `${path} ${name}: ${t.dtype}`);
          assert.equal(t.data.length, numel(t.shape), `${path} ${name}`);
          assert.equal(t.data.byteOffset % t.data.BYTES_PER_ELEMENT, 0);
        }
        const again = parseSafetensors(serializeSafetensors(tensors, metadata));
        assert.deepEqual(again.metadata, metadata);
        for (const [name, t] of tensors) assertSameTensor(again.tensors.get(name), t, `${path} ${name}`);
      }
    }
  });

  it('has the documented names, shapes and values', async () => {
    for (const dir of dirs) {
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      const { img_size: H, patch_size: p, in_chans: C, embed_dim: D, batch: N, mask_ratio } = config;
      const L = (H / p) ** 2;
      const w = (await readSafetensors(join(dir, 'weights.safetensors'))).tensors;
      assert.deepEqual(w.get('patch_embed.proj.weight')?.shape, [D, C, p, p]);
      assert.deepEqual(w.get('blocks.0.attn.qkv.weight')?.shape, [3 * D, D]);
      assert.deepEqual(w.get('pos_embed')?.shape, [1, L + 1, D]);
      assert.deepEqual(w.get('mask_token')?.shape, [1, 1, config.decoder_embed_dim]);

      const inputs = await readSafetensors(join(dir, 'inputs.safetensors'));
      assert.deepEqual(inputs.tensors.get('imgs')?.shape, [N, C, H, H]);
      assert.deepEqual(inputs.tensors.get('noise')?.shape, [N, L]);
      assert.equal(inputs.metadata.format, 'pt');

      const ex = (await readSafetensors(join(dir, 'expected.safetensors'))).tensors;
      const loss = ex.get('loss')!;
      assert.deepEqual(loss.shape, []);
      assert.ok(loss.dtype === 'F32' && Number.isFinite(loss.data[0]) && loss.data[0]! > 0);
      // ids_restore (I64, at an unaligned file offset): each row a permutation of 0..L-1
      const ids = ex.get('ids_restore')!;
      assert.equal(ids.dtype, 'I64');
      const mask = ex.get('mask')!;
      const keep = Math.floor(L * (1 - mask_ratio));
      for (let r = 0; r < N; r++) {
        const row = [...ids.data.subarray(r * L, (r + 1) * L)].map(Number).sort((a, b) => a - b);
        assert.deepEqual(row, [...Array(L).keys()]);
        const m = [...mask.data.subarray(r * L, (r + 1) * L)].map(Number);
        assert.equal(m.filter((v) => v === 1).length, L - keep);
        assert.equal(m.filter((v) => v === 0).length, keep);
      }
      for (const name of w.keys()) {
        if (name !== 'pos_embed' && name !== 'decoder_pos_embed') assert.ok(ex.has(`grad.${name}`), name);
      }
    }
  });
});

describe('safetensors: corrupt files give clear errors', () => {
  const src = 'corrupt.safetensors';
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-st-bad-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const names = (file: string, re: RegExp) => (e: Error) => {
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  };
  /** The same message from the in-memory parser and from the file reader. */
  const bad = async (buf: Uint8Array, re: RegExp) => {
    assert.throws(() => parseSafetensors(buf, src), names(src, re));
    const path = join(dir, src);
    await writeFile(path, buf);
    await assert.rejects(readSafetensors(path), names(path, re));
  };
  const f32 = (shape: number[], begin: number, end: number) => ({
    dtype: 'F32',
    shape,
    data_offsets: [begin, end],
  });

  it('file shorter than 8 bytes', async () => {
    await bad(
      new Uint8Array(5),
      /not a safetensors file: file is 5 bytes, shorter than the 8-byte header length/,
    );
    await bad(new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/);
  });

  it('header length absurdly large or past the end of the file', async () => {
    await bad(
      build('{}', new Uint8Array(0), 2n ** 40n),
      /not a safetensors file: header length 1099511627776 is absurdly large/,
    );
    await bad(build('{}', new Uint8Array(0), 2n ** 64n - 1n), /absurdly large/);
    await bad(
      build('{}', new Uint8Array(10), 100n),
      /header length 100 runs past the end of the file \(20 bytes\)/,
    );
  });

  it('header not JSON, or not an object', async () => {
    await bad(build('{"a": '), /not a safetensors file: header is not valid UTF-8 JSON/);
    await bad(build(new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8 JSON/);
    await bad(build('[1, 2]'), /not a safetensors file: header is not a JSON object/);
    await bad(build('null'), /header is not a JSON object/);
    await bad(build('"str"'), /header is not a JSON object/);
  });

  it('tensor entry that is not an object, or has an unknown dtype', async () => {
    await bad(build({ a: 5 }), /tensor "a": entry is not an object: 5/);
    await bad(
      build({ a: { dtype: 'F8', shape: [], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /tensor "a": unknown dtype "F8"/,
    );
    await bad(build({ a: { shape: [], data_offsets: [0, 0] } }), /tensor "a": unknown dtype undefined/);
  });

  it('shape not a list of non-negative integers', async () => {
    for (const shape of [[2, -1], [1.5], '2', null, [Number.MAX_SAFE_INTEGER + 2]]) {
      await bad(
        build({ a: { dtype: 'F32', shape, data_offsets: [0, 0] } }),
        /tensor "a": shape must be a list of non-negative integers/,
      );
    }
  });

  it('data_offsets not [begin, end] within the data section', async () => {
    for (const data_offsets of [[0], [0, 4, 8], '0,4', [-1, 3], [0.5, 4.5]]) {
      await bad(
        build({ a: { dtype: 'F32', shape: [1], data_offsets } }, new Uint8Array(4)),
        /tensor "a": data_offsets must be \[begin, end\]/,
      );
    }
    await bad(
      build({ a: f32([1], 4, 0) }, new Uint8Array(4)),
      /"a": data_offsets \[4, 0\] are not within the data section/,
    );
    await bad(
      build({ a: f32([2], 0, 8) }, new Uint8Array(4)),
      /"a": data_offsets \[0, 8\] are not within the data section \(4 bytes\)/,
    );
  });

  it('byte length that does not match the shape and dtype', async () => {
    await bad(
      build({ a: f32([3], 0, 8) }, new Uint8Array(8)),
      /tensor "a": data is 8 bytes but shape \[3\] of F32 needs 12 bytes/,
    );
    await bad(
      build({ a: { dtype: 'I64', shape: [], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor "a": data is 4 bytes but shape \[\] of I64 needs 8 bytes/,
    );
  });

  it('overlapping tensors, gaps and trailing bytes', async () => {
    await bad(
      build({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, new Uint8Array(12)),
      /tensors "a" and "b" overlap/,
    );
    await bad(
      build({ a: f32([1], 0, 4), b: f32([1], 0, 4) }, new Uint8Array(4)),
      /tensors "a" and "b" overlap/,
    );
    await bad(
      build({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, new Uint8Array(12)),
      /data bytes 4\.\.8 are not covered/,
    );
    await bad(build({ a: f32([1], 4, 8) }, new Uint8Array(8)), /data bytes 0\.\.4 are not covered/);
    await bad(
      build({ a: f32([1], 0, 4) }, new Uint8Array(7)),
      /3 trailing data bytes \(4\.\.7\) are not covered/,
    );
    await bad(build({}, new Uint8Array(1)), /1 trailing data bytes/);
  });

  it('metadata values that are not strings', async () => {
    await bad(build({ __metadata__: { k: 1 } }), /__metadata__ must be an object of string values/);
    await bad(build({ __metadata__: ['x'] }), /__metadata__ must be an object of string values/);
  });

  it('BOOL values other than 0 and 1', async () => {
    await bad(
      build({ a: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 2])),
      /tensor "a": BOOL values must be 0 or 1/,
    );
  });

  it('accepts a valid hand-built file (so the cases above fail for their own reason)', async () => {
    const { tensors } = parseSafetensors(
      build(
        { __metadata__: { k: 'v' }, a: f32([1], 0, 4), e: f32([0], 4, 4), b: f32([], 4, 8) },
        new Uint8Array(8),
      ),
    );
    assert.deepEqual([...tensors.keys()], ['a', 'e', 'b']);
  });
});

describe('safetensors: serializing rejects bad tensors', () => {
  it('wrong array type, wrong length, bad shape, reserved name, non-string metadata', () => {
    const t = (dtype: string, shape: unknown, data: unknown) => ({
      x: { dtype, shape, data } as unknown as StTensor,
    });
    assert.throws(
      () => serializeSafetensors(t('F32', [2], new Float64Array(2))),
      /"x": F32 data must be a Float32Array, got Float64Array/,
    );
    assert.throws(
      () => serializeSafetensors(t('I64', [2], [1, 2])),
      /"x": I64 data must be a BigInt64Array, got Array/,
    );
    assert.throws(
      () => serializeSafetensors(t('F32', [3], new Float32Array(2))),
      /"x": data has 2 elements but shape \[3\] needs 3/,
    );
    assert.throws(
      () => serializeSafetensors(t('F32', [-1], new Float32Array(0))),
      /"x": shape must be a list/,
    );
    assert.throws(() => serializeSafetensors(t('Q4', [1], new Uint8Array(1))), /"x": unknown dtype "Q4"/);
    assert.throws(
      () => serializeSafetensors(t('BOOL', [1], new Uint8Array([3]))),
      /"x": BOOL values must be 0 or 1/,
    );
    assert.throws(
      () => serializeSafetensors({ __metadata__: stTensor('U8', [0], new Uint8Array(0)) }),
      /"__metadata__" is not a valid tensor name/,
    );
    assert.throws(
      () => serializeSafetensors({}, { k: 1 as unknown as string }),
      /metadata "k" must be a string/,
    );
    assert.throws(() => stTensor('F32', [2, 2], new Float32Array(3)), /data has 3 elements/);
  });
});

describe('safetensors: atomic writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-st-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const good = { a: stTensor('F32', [2], new Float32Array([1, 2])) };

  it('writes, overwrites and leaves no temp file', async () => {
    const path = join(dir, 'x.safetensors');
    await writeSafetensorsAtomic(path, good, { v: '1' });
    await writeSafetensorsAtomic(path, { b: stTensor('I32', [1], new Int32Array([7])) }, { v: '2' });
    const { tensors, metadata } = await readSafetensors(path);
    assert.deepEqual([...tensors.keys()], ['b']);
    assert.equal(metadata.v, '2');
    assert.deepEqual(await readdir(dir), ['x.safetensors']);
    const bytes = await readFile(path);
    assert.ok(
      bytes.equals(serializeSafetensors({ b: stTensor('I32', [1], new Int32Array([7])) }, { v: '2' })),
    );
  });

  it('keeps the old file when a tensor is bad', async () => {
    const path = join(dir, 'x.safetensors');
    await writeSafetensorsAtomic(path, good);
    const before = await readFile(path);
    const broken = { a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } as StTensor };
    await assert.rejects(writeSafetensorsAtomic(path, broken), (e: Error) => {
      assert.match(e.message, /cannot write .*x\.safetensors: .*data has 2 elements but shape \[3\] needs 3/);
      return true;
    });
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await readdir(dir), ['x.safetensors']);
  });

  it('removes the temp file when the rename fails (target is a folder)', async () => {
    const path = join(dir, 'x.safetensors');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'keep');
    await assert.rejects(writeSafetensorsAtomic(path, good), /cannot write .*x\.safetensors/);
    assert.ok((await stat(path)).isDirectory());
    assert.equal(await readFile(join(path, 'inside'), 'utf8'), 'keep');
    assert.deepEqual(await readdir(dir), ['x.safetensors']);
  });

  it('fails cleanly when the folder does not exist', async () => {
    const path = join(dir, 'missing', 'x.safetensors');
    await assert.rejects(writeSafetensorsAtomic(path, good), /cannot write .*ENOENT/);
    assert.deepEqual(await readdir(dir), []);
  });
});
