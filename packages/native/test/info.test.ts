// info.test.ts: build facts, device list, CPU threads and the NCCL search.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binding, emulated } from '../src/binding.js';
import {
  buildInfo,
  devices,
  emptyCache,
  findNccl,
  formatNcclVersion,
  hostPin,
  hostUnpin,
  memoryStats,
  ncclCandidates,
  setCpuThreads,
} from '../src/info.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('buildInfo / devices', () => {
  it('reports the version, CUDA architectures and OpenMP', () => {
    const info = buildInfo();
    assert.equal(info.version, pkg.version);
    const cudaArchs = emulated ? ['emulated'] : ['sm_80', 'sm_90a']; // MAE_CUDA_EMULATOR=1 loads the emulator build
    assert.deepEqual(info.architectures, info.cuda ? cudaArchs : []);
    assert.equal(typeof info.openmp, 'boolean');
    assert.ok(info.cpuThreads >= 1);
  });

  it('compiled the CUDA kernels when nvcc is on this machine (a CUDA build failure must fail CI)', function () {
    const nvcc = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
    if (nvcc.status !== 0) {
      console.log('    (no nvcc here: the CPU-only build is expected)');
      this.skip();
    }
    assert.equal(buildInfo().cuda, true, 'nvcc is present but the addon was built without CUDA');
  });

  it('lists the cpu first and every CUDA device', () => {
    const list = devices();
    assert.equal(list[0].spec, 'cpu');
    assert.equal(list.length, 1 + binding.cudaDevices().length);
    for (const d of list.slice(1)) assert.match(d.capability ?? '', /^\d+\.\d+$/);
  });

  it('sets the CPU thread count', () => {
    const before = buildInfo().cpuThreads;
    setCpuThreads(1);
    assert.equal(buildInfo().cpuThreads, buildInfo().openmp ? 1 : 1);
    setCpuThreads(before);
    assert.equal(buildInfo().cpuThreads, before);
    assert.throws(() => setCpuThreads(0), /setCpuThreads: mae_set_cpu_threads: n must be from 1 to/);
  });

  it('hostPin pins host memory (shared too) only where there is a CUDA device; hostUnpin undoes it', () => {
    const cuda = devices().some((d) => d.type === 'cuda');
    for (const view of [
      new Uint8Array(1 << 20),
      new Uint8Array(new SharedArrayBuffer(1 << 20), 4096, 8192),
    ]) {
      const pinned = hostPin(view);
      assert.equal(pinned, cuda);
      if (pinned) hostUnpin(view);
      else
        assert.throws(
          () => hostUnpin(view),
          /hostUnpin: mae_host_unpin: (built without CUDA|no CUDA device)/,
        );
    }
    assert.throws(() => hostPin(new Uint8Array(0)), /nothing to pin/);
    assert.throws(() => hostPin({} as Uint8Array), /must be a typed array/);
  });

  it('memoryStats and emptyCache work on the cpu and validate the device', () => {
    emptyCache('cpu');
    const s = memoryStats('cpu');
    assert.equal(s.reserved, s.allocated, 'nothing cached after emptyCache');
    assert.throws(() => binding.memoryStats(0, 1), /there is one CPU device/);
    assert.throws(
      () => binding.memoryStats(2, 0),
      /deviceType \(0 = cpu, 1 = cuda\) must be an integer in 0\.\.1/,
    );
  });
});

describe('findNccl', () => {
  it('builds the candidate list in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mae-nccl-'));
    const c = ncclCandidates({ MAE_NCCL_PATH: dir, NCCL_HOME: '/opt/nccl', LD_LIBRARY_PATH: '/a:/b' });
    assert.deepEqual(c.slice(0, 5), [
      join(dir, 'libnccl.so.2'),
      '/opt/nccl/lib/libnccl.so.2',
      '/a/libnccl.so.2',
      '/b/libnccl.so.2',
      'libnccl.so.2',
    ]);
    assert.ok(c.includes('/usr/local/cuda/lib64/libnccl.so.2'));
    assert.ok(c.includes('/usr/lib/x86_64-linux-gnu/libnccl.so.2'));
    assert.ok(c.includes('/usr/local/nccl/lib/libnccl.so.2'));
    assert.equal(new Set(c).size, c.length);
    const file = join(dir, 'custom.so');
    assert.equal(ncclCandidates({ MAE_NCCL_PATH: file })[0], file);
  });

  it('reports what it searched and, when there is no NCCL, that it was not found', function () {
    const dir = mkdtempSync(join(tmpdir(), 'mae-nccl-'));
    const fake = join(dir, 'libnccl.so.2');
    writeFileSync(fake, 'not a library');
    const env = { ...process.env, MAE_NCCL_PATH: dir };
    const r = findNccl(env);
    assert.equal(r.searched[0], fake);
    assert.match(r.errors[0], /libnccl\.so\.2/);
    if (r.found) this.skip(); // a machine with NCCL installed
    assert.equal(r.path, undefined);
    assert.deepEqual(r.searched, ncclCandidates(env));
    assert.equal(r.errors.length, r.searched.length);
  });

  it('formats NCCL versions', () => {
    assert.equal(formatNcclVersion(22105), '2.21.5');
    assert.equal(formatNcclVersion(2708), '2.7.8');
  });
});
