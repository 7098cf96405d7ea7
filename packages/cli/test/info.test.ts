// info.test.ts: runs `mae-cuda info` in a child process and checks it tells the truth (compared
// with the addon's own buildInfo), and that an unknown command exits 2 with a message.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addonPath, buildInfo, devices, jpegAvailable } from '@mae-cuda/native';
import { COMMANDS } from '../src/commands/index.js';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000 });

describe('mae-cuda info', () => {
  it('--json matches buildInfo() and devices()', () => {
    const r = run('info', '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const b = buildInfo();
    assert.equal(report.version, b.version);
    assert.equal(report.addon, addonPath);
    assert.deepEqual(report.cuda, { compiled: b.cuda, architectures: b.architectures });
    assert.deepEqual(report.openmp, {
      compiled: b.openmp,
      threads: b.cpuThreads,
      maxThreads: b.maxCpuThreads,
      waitPolicy: b.waitPolicy,
      spinCount: process.env.GOMP_SPINCOUNT, // this process's, set as the child's was (binding.ts)
    });
    assert.deepEqual(report.devices, devices());
    assert.deepEqual(report.jpeg, {
      libjpeg: jpegAvailable(),
      decoder: jpegAvailable() ? 'libjpeg' : 'sharp',
    });
    assert.equal(typeof report.nccl.found, 'boolean');
    assert.ok(Array.isArray(report.nccl.searched) && report.nccl.searched.length > 0);
  });

  it('prints the same facts as text', () => {
    const r = run('info');
    assert.equal(r.status, 0, r.stderr);
    const b = buildInfo();
    assert.match(r.stdout, new RegExp(`^mae-cuda ${b.version.replaceAll('.', '\\.')}$`, 'm'));
    if (b.cuda) assert.match(r.stdout, new RegExp(`CUDA: compiled for ${b.architectures.join(', ')}`));
    else assert.match(r.stdout, /CUDA: not compiled/);
    assert.match(r.stdout, /^ {2}cpu +\d+ threads$/m);
    if (b.openmp)
      assert.match(
        r.stdout,
        new RegExp(
          `^OpenMP: ${b.cpuThreads} threads? .*, wait policy ${b.waitPolicy} \\(OMP_WAIT_POLICY; `,
          'm',
        ),
      );
    const cuda = devices().filter((d) => d.type === 'cuda');
    if (cuda.length === 0) assert.match(r.stdout, /no CUDA device/);
    for (const d of cuda) assert.match(r.stdout, new RegExp(`${d.spec} +${d.name}, compute ${d.capability}`));
    assert.match(r.stdout, /^NCCL: (found at .+ \(\d+\.\d+\.\d+\)|not found; searched:)$/m);
    assert.match(
      r.stdout,
      jpegAvailable() ? /^JPEG decoding: libjpeg-turbo in the addon$/m : /^JPEG decoding: sharp \(/m,
    );
  });

  it('names the JPEG decoder MAE_JPEG_DECODER forces, and refuses a bad value at startup (exit 2)', () => {
    const env = (v: string) =>
      spawnSync(process.execPath, [bin, 'info'], {
        encoding: 'utf8',
        timeout: 60000,
        env: { ...process.env, MAE_JPEG_DECODER: v },
      });
    assert.match(env('sharp').stdout, /^JPEG decoding: sharp/m);
    const bad = env('turbo');
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'mae-cuda: MAE_JPEG_DECODER must be libjpeg or sharp, got "turbo"\n');
  });

  it('shows the wait policy and thread count in use: passive by default, or as set', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1' };
    delete env.OMP_WAIT_POLICY;
    delete env.GOMP_SPINCOUNT;
    const dflt = spawnSync(process.execPath, [bin, 'info'], { encoding: 'utf8', env, timeout: 60000 });
    assert.match(
      dflt.stdout,
      /^OpenMP: 1 thread .*wait policy passive \(OMP_WAIT_POLICY; idle threads spin 30000 times \(GOMP_SPINCOUNT\), then sleep\)$/m,
    );
    const passive = spawnSync(process.execPath, [bin, 'info'], {
      encoding: 'utf8',
      env: { ...env, OMP_WAIT_POLICY: 'passive' },
      timeout: 60000,
    });
    assert.match(passive.stdout, /wait policy passive \(OMP_WAIT_POLICY; idle threads sleep\)$/m);
    const active = spawnSync(process.execPath, [bin, 'info', '--json'], {
      encoding: 'utf8',
      env: { ...env, OMP_WAIT_POLICY: 'active', OMP_NUM_THREADS: '2,1' },
      timeout: 60000,
    });
    assert.equal(active.status, 0, active.stderr);
    assert.equal(JSON.parse(active.stdout).openmp.waitPolicy, 'active');
    assert.equal(JSON.parse(active.stdout).openmp.threads, 2);
  });

  it('rejects unknown commands and options with exit code 2', () => {
    const bad = run('frobnicate');
    assert.equal(bad.status, 2);
    const names = COMMANDS.map((c) => c.name).sort();
    assert.ok(names.includes('bench-gemm') && names.includes('convert'), names.join());
    assert.ok(
      bad.stderr.includes(`unknown command 'frobnicate' (commands: ${names.join(', ')})`),
      bad.stderr,
    );
    const badOption = run('info', '--jsn');
    assert.equal(badOption.status, 2);
    assert.match(badOption.stderr, /unknown option --jsn/);
  });

  it('prints help', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: mae-cuda <command> \[options\]/);
    assert.match(r.stdout, /info +show the build/);
  });
});
