// NCCL loaded at run time: without NCCL, loadNccl names every path it searched and why each
// failed; a stand-in library (test/fixtures/fake_nccl.c, compiled here with cc) checks loading,
// symbol resolution, the once-per-process rule, the default search list and the unique id in
// child processes; arguments are refused before NCCL is loaded or called; with a GPU and NCCL, a
// world-of-1 communicator all-reduces (sum, avg; f32, bf16), broadcasts, and is captured in a
// CUDA graph.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  binding,
  CudaGraph,
  devices,
  findNccl,
  loadNccl,
  NcclComm,
  ncclCandidates,
  ncclUniqueId,
  Stream,
  Tensor,
} from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ncclPresent = findNccl().found;

(ncclPresent ? describe.skip : describe)('loadNccl without NCCL', () => {
  it('throws an error naming every path it searched and dlerror', () => {
    const candidates = ncclCandidates();
    assert.ok(candidates.length >= 2);
    assert.throws(
      () => loadNccl(),
      (e: Error) => {
        assert.match(
          e.message,
          /^ncclLoad: mae_nccl_load: no NCCL library could be loaded from the \d+ path/,
        );
        assert.match(e.message, /cannot open shared object file/);
        assert.match(e.message, /MAE_NCCL_PATH/);
        for (const c of candidates) assert.ok(e.message.includes(c), `the error names ${c}: ${e.message}`);
        return true;
      },
    );
  });
});

describe('loadNccl', () => {
  it('names an explicit path that does not exist', () => {
    const p = '/nonexistent/libnccl.so.2';
    assert.throws(() => loadNccl(p), new RegExp(`${reEscape(p)}`));
    if (!ncclPresent)
      assert.throws(() => loadNccl(p), /No such file or directory: \/nonexistent\/libnccl\.so\.2/);
  });
  it('refuses paths with the list separator', () => {
    assert.throws(() => loadNccl('/a:/b'), /without ':'/);
  });
});

describe('loadNccl with a stand-in library', () => {
  let dir = '';
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(fixtures, 'nccl_child.ts'), ...args], {
      encoding: 'utf8',
      env,
      timeout: 60000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  };
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'mae-nccl-'));
    mkdirSync(join(dir, 'lib'));
    try {
      const src = join(fixtures, 'fake_nccl.c');
      execFileSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'lib', 'libnccl.so.2'), src]);
      execFileSync('cc', ['-shared', '-fPIC', '-DFAKE_NCCL_NO_ABORT', '-o', join(dir, 'noabort.so'), src]);
    } catch (e) {
      console.log(`      (no C compiler to build the stand-in NCCL: ${(e as Error).message.split('\n')[0]})`);
      this.skip();
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the symbols once per process and returns the version and unique id', () => {
    const good = join(dir, 'lib', 'libnccl.so.2');
    const noAbort = join(dir, 'noabort.so');
    const r = run(['explicit', good, noAbort]);
    assert.match(
      (r.missing as { error: string }).error,
      new RegExp(`${reEscape(noAbort)}`),
      'a failed load names the library',
    );
    assert.match((r.missing as { error: string }).error, /loaded, but it has no ncclCommAbort/);
    assert.match((r.beforeLoad as { error: string }).error, /NCCL is not loaded; call mae_nccl_load first/);
    assert.deepEqual(r.loaded, { path: good, version: 22105 });
    assert.deepEqual(r.again, r.loaded);
    assert.deepEqual(r.cached, r.loaded);
    assert.match(
      (r.other as { error: string }).error,
      new RegExp(`already loaded from ${reEscape(good)}.*asked for ${reEscape(noAbort)}`),
    );
    assert.deepEqual(
      r.id,
      Array.from({ length: 128 }, (_, i) => i),
    );
    assert.equal(r.errorString, 'invalid usage (fake)');
    assert.equal(r.group, 42);
  });

  it('finds the library through MAE_NCCL_PATH (a folder), in the C default list and in loadNccl()', () => {
    const r = run(['default'], { ...process.env, MAE_NCCL_PATH: join(dir, 'lib') });
    const expected = { path: join(dir, 'lib', 'libnccl.so.2'), version: 22105 };
    assert.deepEqual(r.native, expected);
    assert.deepEqual(r.loaded, expected);
  });
});

describe('NcclComm argument checks (before NCCL is loaded or called)', () => {
  const id = new Uint8Array(128);
  it('id must be 128 bytes', async () => {
    await assert.rejects(
      NcclComm.init(1, 0, new Uint8Array(64), 'cuda'),
      /id must be a Uint8Array of 128 bytes.*got 64 bytes/,
    );
    await assert.rejects(
      NcclComm.init(1, 0, [1, 2] as unknown as Uint8Array, 'cuda'),
      /id must be a Uint8Array of 128 bytes.*got object/,
    );
    assert.throws(
      () => binding.ncclCommInit(1, 0, new Uint8Array(127), 1, 0),
      /id must be a Uint8Array of 128 bytes/,
    );
  });
  it('world and rank must be in range', async () => {
    await assert.rejects(NcclComm.init(0, 0, id, 'cuda'), /world must be an integer in 1\.\.\d+, got 0/);
    await assert.rejects(NcclComm.init(2, 2, id, 'cuda'), /rank must be an integer in 0\.\.1, got 2/);
    await assert.rejects(NcclComm.init(2, -1, id, 'cuda'), /rank must be an integer in 0\.\.1, got -1/);
    await assert.rejects(NcclComm.init(1.5, 0, id, 'cuda'), /world must be an integer/);
    assert.throws(() => binding.ncclCommInit(2, 2, id, 1, 0), /rank must be an integer in 0\.\.1, got 2/);
  });
  it('a CPU device is refused, by the TS wrapper and by the C ABI', async () => {
    await assert.rejects(NcclComm.init(1, 0, id, 'cpu'), /NCCL communicators need a CUDA device, got cpu/);
    await assert.rejects(
      binding.ncclCommInit(1, 0, id, 0, 0),
      /^Error: ncclCommInit: mae_nccl_comm_init: NCCL communicators need a CUDA device, got cpu$/,
    );
  });
  it('a communicator handle must be one', () => {
    const t = Tensor.zeros('f32', [2]);
    assert.throws(
      () => binding.ncclAllReduce({} as never, t.handle, 0, null),
      /expected an NCCL communicator/,
    );
  });
});

const hasCuda = devices().some((d) => d.type === 'cuda');
(hasCuda && ncclPresent ? describe : describe.skip)('NcclComm on CUDA (world of 1)', () => {
  let comm: NcclComm;
  const n = 1000;
  const values = Float32Array.from({ length: n }, (_, i) => (i % 17) - 8.25);
  before(async () => {
    const lib = loadNccl();
    console.log(`      NCCL ${lib.version} from ${lib.path}`);
    comm = await NcclComm.init(1, 0, ncclUniqueId(), 'cuda');
  });
  after(() => comm?.destroy());

  it('all-reduces f32 and bf16 in place (sum and avg) on a stream and on the current stream', async () => {
    const s = Stream.create('cuda');
    for (const dtype of ['f32', 'bf16'] as const) {
      const t = Tensor.fromArray(dtype, [n], values, 'cuda');
      const expected = await t.toArray();
      comm.allReduce(t, 'sum', s);
      comm.allReduce(t, 'avg', s);
      await s.synchronizeAsync();
      assert.deepEqual(await t.toArray(), expected);
      comm.allReduce(t, 'sum');
      assert.deepEqual(await t.toArray(), expected);
    }
    assert.equal(comm.asyncError(), 0);
  });

  it('broadcasts from root 0 and replays inside a CUDA graph', async () => {
    const s = Stream.create('cuda');
    const t = Tensor.fromArray('f32', [n], values, 'cuda');
    comm.broadcast(t, 0, s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await t.toArray())], [...values]);
    const { graph } = CudaGraph.capture(s, () => {
      comm.allReduce(t, 'sum');
      comm.broadcast(t, 0);
    });
    graph.launch(s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await t.toArray())], [...values]);
    graph.destroy();
  });

  it('refuses tensors it cannot reduce, naming the problem', () => {
    assert.throws(
      () => comm.allReduce(Tensor.zeros('i32', [4], 'cuda'), 'sum'),
      /only f32 and bf16.*got i32/,
    );
    assert.throws(
      () => comm.allReduce(Tensor.zeros('f32', [4]), 'sum'),
      /the tensor is on cpu but the communicator on cuda:0/,
    );
    assert.throws(
      () => comm.broadcast(Tensor.zeros('f32', [4], 'cuda'), 1),
      /root must be an integer in 0\.\.0, got 1/,
    );
    assert.throws(
      () =>
        binding.ncclAllReduce(
          (comm as unknown as { handle: never }).handle,
          Tensor.zeros('u8', [4], 'cuda').handle,
          0,
          null,
        ),
      /mae_nccl_all_reduce: only f32 and bf16 tensors can be all-reduced, got u8/,
    );
  });
});
