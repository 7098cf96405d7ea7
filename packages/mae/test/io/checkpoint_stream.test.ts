// checkpoint_stream.test.ts: checkpoints through the streamed I/O: readCheckpointInfo reads the
// header only (it answers for a file whose data would not load, and for one over 4 GiB), refuses
// files that are not ours or are cut short; openCheckpoint splits model and optimizer tensors;
// saveCheckpoint takes lazy sources and, with requireFinite, refuses NaN/±Inf with a
// NonFiniteTensorError naming the tensor, leaving the old file and no temp file behind.
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKPOINT_FORMAT,
  loadCheckpoint,
  openCheckpoint,
  readCheckpointInfo,
  saveCheckpoint,
} from '../../src/io/checkpoint.js';
import { NonFiniteTensorError } from '../../src/io/finite.js';
import { readSafetensors, type StEntry, stTensor, writeSafetensorsAtomic } from '../../src/io/safetensors.js';

const META = {
  format: CHECKPOINT_FORMAT,
  version: '1',
  step: '12',
  epoch: '3',
  config: '{"lr":0.5}',
  git: 'abc',
};

function model() {
  return {
    'blocks.0.w': stTensor('F32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])),
    'blocks.0.b': stTensor('F64', [2], new Float64Array([0.5, -0.5])),
    count: stTensor('I64', [], new BigInt64Array([5n])),
  };
}

describe('checkpoint: streamed', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-ckpt-stream-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('readCheckpointInfo gives step, epoch, config and extra from the header alone', async () => {
    const path = join(dir, 'c.safetensors');
    // BOOL data of 7: the header is valid, the data would be refused when read
    const b: StEntry = { dtype: 'BOOL', shape: [1], read: () => new Uint8Array([1]) };
    await writeSafetensorsAtomic(path, { b }, META);
    const fh = await open(path, 'r+');
    await fh.write(new Uint8Array([7]), 0, 1, (await fh.stat()).size - 1);
    await fh.close();
    assert.deepEqual(await readCheckpointInfo(path), {
      step: 12,
      epoch: 3,
      config: { lr: 0.5 },
      extra: { git: 'abc' },
    });
    await assert.rejects(loadCheckpoint(path), /tensor "b": BOOL values must be 0 or 1/);
  });

  it('readCheckpointInfo answers for a checkpoint over 4 GiB without reading it', async () => {
    const path = join(dir, 'huge.safetensors');
    const n = 5 * 2 ** 30;
    await writeSafetensorsAtomic(path, { x: stTensor('U8', [0], new Uint8Array(0)) }, META);
    // rewrite the header for one 5 GiB tensor and make the file sparse to that size
    const json = JSON.stringify({ __metadata__: META, x: { dtype: 'U8', shape: [n], data_offsets: [0, n] } });
    const head = new TextEncoder().encode(json.padEnd(Math.ceil(json.length / 8) * 8));
    const fh = await open(path, 'w');
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(head.length), true);
    await fh.write(len, 0, 8, 0);
    await fh.write(head, 0, head.length, 8);
    await fh.truncate(8 + head.length + n);
    await fh.close();
    const t0 = Date.now();
    assert.equal((await readCheckpointInfo(path)).step, 12);
    const ck = await openCheckpoint(path);
    assert.deepEqual(ck.model.get('x'), { dtype: 'U8', shape: [n], byteLength: n });
    await ck.close();
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms: it must not read the data`);
  });

  it('readCheckpointInfo refuses files that are not ours or are cut short, naming them', async () => {
    const path = join(dir, 'c.safetensors');
    await writeSafetensorsAtomic(path, model(), { format: 'pt' });
    await assert.rejects(readCheckpointInfo(path), /checkpoint .*c\.safetensors: not a mae-cuda checkpoint/);
    await saveCheckpoint(path, { model: model(), step: 1, epoch: 0, config: {} });
    await truncate(path, (await stat(path)).size - 3);
    await assert.rejects(
      readCheckpointInfo(path),
      /safetensors .*c\.safetensors: tensor ".*": data_offsets \[\d+, \d+\] are not within the data section/,
    );
    await truncate(path, 20);
    await assert.rejects(
      readCheckpointInfo(path),
      /c\.safetensors: not a safetensors file: header length \d+ runs past/,
    );
    await assert.rejects(readCheckpointInfo(join(dir, 'none')), /none: cannot open: ENOENT/);
  });

  it('openCheckpoint splits model and optimizer tensors and reads them on demand', async () => {
    const path = join(dir, 'c.safetensors');
    const optimizer = { 'exp_avg.blocks.0.w': stTensor('F32', [2, 3], new Float32Array(6).fill(0.25)) };
    await saveCheckpoint(path, {
      model: model(),
      optimizer,
      step: 4,
      epoch: 1,
      config: null,
      extra: { a: 'b' },
    });
    const ck = await openCheckpoint(path);
    try {
      assert.deepEqual([...ck.model.keys()].sort(), ['blocks.0.b', 'blocks.0.w', 'count']);
      assert.deepEqual([...ck.optimizer.keys()], ['exp_avg.blocks.0.w']);
      assert.deepEqual(ck.optimizer.get('exp_avg.blocks.0.w')?.shape, [2, 3]);
      assert.deepEqual([ck.step, ck.epoch, ck.config, ck.extra], [4, 1, null, { a: 'b' }]);
      const m = await ck.reader.read('optimizer.exp_avg.blocks.0.w');
      assert.deepEqual([...m.data], [0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
    } finally {
      await ck.close();
    }
  });

  it('saves lazy sources, each read once, with the bytes of full tensors', async () => {
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    const ckpt = { model: model(), step: 2, epoch: 1, config: { x: 1 } };
    await saveCheckpoint(a, ckpt, { requireFinite: true });
    const reads: string[] = [];
    const lazy = Object.fromEntries(
      Object.entries(model()).map(([name, t]) => [
        name,
        {
          dtype: t.dtype,
          shape: t.shape,
          read: async () => {
            reads.push(name);
            return t.data;
          },
        },
      ]),
    );
    await saveCheckpoint(b, { ...ckpt, model: lazy as Record<string, StEntry> }, { requireFinite: true });
    assert.deepEqual(reads.sort(), ['blocks.0.b', 'blocks.0.w', 'count']);
    assert.ok((await readFile(a)).equals(await readFile(b)));
  });

  it('with requireFinite, refuses NaN and ±Inf naming the tensor; keeps the old file, no temp file', async () => {
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, { model: model(), step: 1, epoch: 0, config: {} });
    const before = await readFile(path);
    const w = new Float32Array([1, Number.NaN, 3, Number.NaN, 5, -Infinity]);
    const cases = [
      {
        model: { ...model(), 'blocks.0.w': stTensor('F32', [2, 3], w) },
        re: /^checkpoint .*c\.safetensors not written: blocks\.0\.w has 3 non-finite values \(first: NaN at index 1\)$/,
        fields: { tensor: 'blocks.0.w', count: 3, index: 1 },
      },
      {
        model: model(),
        optimizer: {
          'exp_avg_sq.blocks.0.b': {
            dtype: 'F64' as const,
            shape: [2],
            read: async () => new Float64Array([0, Number.POSITIVE_INFINITY]),
          },
        },
        re: /optimizer\.exp_avg_sq\.blocks\.0\.b has 1 non-finite value \(first: Inf at index 1\)/,
        fields: { tensor: 'optimizer.exp_avg_sq.blocks.0.b', count: 1, index: 1 },
      },
    ];
    for (const { re, fields, ...parts } of cases) {
      await assert.rejects(
        saveCheckpoint(path, { ...parts, step: 2, epoch: 1, config: {} }, { requireFinite: true }),
        (e: Error) => {
          assert.ok(e instanceof NonFiniteTensorError, `${e}`);
          assert.match(e.message, re);
          assert.deepEqual({ tensor: e.tensor, count: e.count, index: e.index }, fields);
          assert.equal(e.path, path);
          return true;
        },
      );
      assert.ok((await readFile(path)).equals(before));
      assert.deepEqual(await readdir(dir), ['c.safetensors']);
    }
    // without requireFinite, a NaN is just data
    await saveCheckpoint(path, {
      model: { w: stTensor('F32', [2], new Float32Array([Number.NaN, 1])) },
      step: 0,
      epoch: 0,
      config: {},
    });
    assert.ok(Number.isNaN((await readSafetensors(path)).tensors.get('w')!.data[0] as number));
  });
});
