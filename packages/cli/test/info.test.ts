// info.test.ts: runs `mae-cuda info` in a child process and checks it tells the truth (compared
// with the addon's own buildInfo), and that an unknown command exits 2 with a message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildInfo, devices } from '@mae-cuda/native';

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
    assert.deepEqual(report.cuda, { compiled: b.cuda, architectures: b.architectures });
    assert.deepEqual(report.openmp, { compiled: b.openmp, threads: b.cpuThreads });
    assert.deepEqual(report.devices, devices());
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
    const cuda = devices().filter((d) => d.type === 'cuda');
    if (cuda.length === 0) assert.match(r.stdout, /no CUDA device/);
    for (const d of cuda) assert.match(r.stdout, new RegExp(`${d.spec} +${d.name}, compute ${d.capability}`));
    assert.match(r.stdout, /^NCCL: (found at .+ \(\d+\.\d+\.\d+\)|not found; searched:)$/m);
  });

  it('rejects unknown commands and options with exit code 2', () => {
    const bad = run('frobnicate');
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /unknown command 'frobnicate' \(commands: bench, check-step, info, parity, pretrain\)/,
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
