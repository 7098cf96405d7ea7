// safetensors_large.test.ts: files past Node's 2 GiB readFile and 4 GiB Buffer limits. A sparse
// file over 4 GiB (header, ftruncate, a few known bytes inside tensors of 2 and 2.5 GiB, one
// tensor past the 4 GiB mark) is opened and read tensor by tensor; a 3 GiB file of junk is refused
// as "not a safetensors file"; a streamed write of 4.5 GiB from lazy sources is read back (when
// the disk has room). Everything lives in os.tmpdir() and is removed afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, readSafetensors, writeSafetensorsAtomic } from '../../src/io/safetensors.js';
import type { StEntry } from '../../src/io/st_types.js';

const GiB = 2 ** 30;

/** A file of `size` bytes, all holes except `pokes` (position, bytes). */
async function sparse(path: string, size: number, pokes: [number, Uint8Array][]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    for (const [at, bytes] of pokes) await fh.write(bytes, 0, bytes.length, at);
  } finally {
    await fh.close();
  }
}

/** The 8-byte length and the JSON header padded to 8 bytes. */
function head(header: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  return out;
}

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe('safetensors files over 4 GiB', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-st-large-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a sparse 4.5 GiB file and reads its tensors one by one, values where they were put', async () => {
    const wN = 5 * 2 ** 27; // F32, 2.5 GiB
    const uN = 2 ** 31 + 1000; // U8, just over 2 GiB
    const wEnd = wN * 4;
    const uEnd = wEnd + uN;
    const h = head({
      __metadata__: { note: 'sparse' },
      w: { dtype: 'F32', shape: [5, 2 ** 27], data_offsets: [0, wEnd] },
      e: { dtype: 'F32', shape: [0], data_offsets: [wEnd, wEnd] },
      u: { dtype: 'U8', shape: [uN], data_offsets: [wEnd, uEnd] },
      n: { dtype: 'I64', shape: [3], data_offsets: [uEnd, uEnd + 24] },
    });
    const d = h.length;
    const path = join(dir, 'sparse.safetensors');
    const n = new BigInt64Array([-(2n ** 63n), 42n, 2n ** 40n]);
    await sparse(path, d + uEnd + 24, [
      [0, h],
      [d, f32(1.5)],
      [d + (2 ** 29 + 5) * 4, f32(7)],
      [d + wEnd - 4, f32(-2.25)],
      [d + wEnd + 123, new Uint8Array([0x7f])],
      [d + uEnd - 1, new Uint8Array([0xab])],
      [d + uEnd, new Uint8Array(n.buffer)],
    ]);
    assert.ok((await stat(path)).size > 4.5 * GiB);

    const r = await openSafetensors(path);
    try {
      assert.deepEqual(r.metadata, { note: 'sparse' });
      assert.deepEqual(r.names(), ['w', 'e', 'u', 'n']);
      assert.deepEqual((await r.read('n')).data, n, 'the tensor past the 4 GiB mark');
      assert.equal((await r.read('e')).data.length, 0);
      let w = (await r.read('w')).data as Float32Array | undefined;
      assert.equal(w!.length, wN);
      assert.deepEqual(
        [w![0], w![1], w![2 ** 29 + 4], w![2 ** 29 + 5], w![wN - 2], w![wN - 1]],
        [1.5, 0, 0, 7, 0, -2.25],
      );
      w = undefined;
      const u = (await r.read('u')).data as Uint8Array;
      assert.equal(u.length, uN);
      assert.deepEqual([u[0], u[123], u[2 ** 31], u[uN - 1]], [0, 0x7f, 0, 0xab]);
    } finally {
      await r.close();
    }
  });

  it('refuses 3 GiB of junk as not a safetensors file (not a Node size error)', async () => {
    const path = join(dir, 'junk.bin');
    await sparse(path, 3 * GiB, [[0, randomBytes(4096)]]);
    for (const read of [openSafetensors, readSafetensors]) {
      await assert.rejects(read(path), (e: Error) => {
        assert.match(
          e.message,
          /^safetensors .*junk\.bin: not a safetensors file: header length \d+ is absurdly large/,
        );
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
  });

  it('writes 4.5 GiB streamed from lazy sources, one 512 MiB chunk at a time', async function () {
    const { bavail, bsize } = await statfs(dir);
    const free = bavail * bsize;
    if (free < 12 * GiB) {
      console.log(`    (skipped: ${(free / GiB).toFixed(1)} GiB free in ${dir}, this needs 12)`);
      this.skip();
    }
    const chunk = new Float32Array(2 ** 27); // 512 MiB, shared by every source
    chunk[0] = 1;
    chunk[chunk.length - 1] = 2;
    let reads = 0;
    const entries: Record<string, StEntry> = {};
    for (let i = 0; i < 9; i++) {
      entries[`chunk.${i}`] = {
        dtype: 'F32',
        shape: [2 ** 13, 2 ** 14],
        read: () => {
          reads++;
          return chunk;
        },
      };
    }
    entries['z.tail'] = { dtype: 'F32', shape: [3], read: async () => new Float32Array([-1, 0.5, 3]) };
    entries.head = { dtype: 'I64', shape: [2], read: () => new BigInt64Array([7n, -7n]) };
    const path = join(dir, 'streamed.safetensors');
    const t0 = Date.now();
    await writeSafetensorsAtomic(path, entries, { what: 'zeros' });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(reads, 9);
    const r = await openSafetensors(path);
    try {
      assert.deepEqual(r.names(), [
        'head',
        'chunk.0',
        ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `chunk.${i}`),
        'z.tail',
      ]);
      assert.deepEqual(r.info('chunk.8'), { dtype: 'F32', shape: [2 ** 13, 2 ** 14], byteLength: 2 ** 29 });
      assert.deepEqual([...(await r.read('z.tail')).data], [-1, 0.5, 3]);
      assert.deepEqual([...(await r.read('head')).data], [7n, -7n]);
      chunk.fill(9); // read the last chunk into the same array: every value must come from the file
      const last = (await r.read('chunk.8', chunk)).data as Float32Array;
      assert.deepEqual([last[0], last[1], last[2 ** 26], last[last.length - 1]], [1, 0, 0, 2]);
    } finally {
      await r.close();
    }
    const size = (await stat(path)).size;
    assert.ok(size > 4.5 * GiB, `${size}`);
    console.log(`    (wrote ${(size / GiB).toFixed(2)} GiB in ${seconds.toFixed(1)} s)`);
  });
});
