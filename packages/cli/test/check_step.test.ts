// check_step.test.ts: `mae-cuda check-step` in a child process: the same run on the same device
// compares equal, timing prints figures and writes JSON, unavailable devices are refused (exit 2).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devices } from '@mae-cuda/native';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'check-step', ...args], { encoding: 'utf8', timeout: 120000 });

describe('mae-cuda check-step', function () {
  this.timeout(120000);

  it('compares a device with itself (identical curves) and times the step', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-check-')), 'r.json');
    const r = run('--compare', 'cpu', '--time', '--steps', '2', '--batch', '2,3', '--json', json);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /loss curves cpu \(f32\) vs cpu \(f32\) over 2 steps: max relative difference 0\.00e\+0 .*: ok/,
    );
    assert.match(r.stdout, /mae_tiny_28 batch 3 on cpu \(f32\): [\d.]+ ms\/step, [\d.]+ images\/s/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.compare.pass, true);
    assert.equal(report.timings.length, 2);
    assert.ok(report.timings[1].imagesPerSec > 0);
  });

  it('compares the bf16 plan with f32 and fails past --tol', () => {
    const r = run('--compare', 'cpu', '--precision', 'bf16', '--steps', '2', '--batch', '2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /cpu \(bf16\) vs cpu \(f32\) over 2 steps: max relative difference [1-9][\d.]*e-[2-9] .*: ok/,
    );
    const tight = run(
      '--compare',
      'cpu',
      '--precision',
      'bf16',
      '--steps',
      '2',
      '--batch',
      '2',
      '--tol',
      '1e-9',
    );
    assert.equal(tight.status, 1);
    assert.match(tight.stdout, /: FAIL \(tol 1e-9\)/);
  });

  it('refuses a device that is not here, and bad options', () => {
    if (!devices().some((d) => d.type === 'cuda')) {
      const r = run('--run', '--device', 'cuda', '--steps', '1');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /device cuda is not available here/);
    }
    const bad = run('--time', '--batch', 'lots');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--batch: must be a number, got 'lots'/);
    const absurd = run('--time', '--steps', '1e400');
    assert.equal(absurd.status, 2);
    assert.match(
      absurd.stderr,
      /^mae-cuda check-step: --steps: must be a whole number from 1 to 1000000, got 1e400$/m,
    );
  });

  it('refuses to run without a mode, naming the modes (it used to exit 0 doing nothing)', () => {
    const r = run('--steps', '2');
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^mae-cuda check-step: give a mode: --run .*--compare DEVICE .*--time/m);
    assert.match(r.stderr, /^usage: mae-cuda check-step --run \| --compare cpu \| --time/m);
  });

  it('--run trains and prints the losses', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-check-')), 'r.json');
    const r = run('--run', '--steps', '2', '--batch', '2', '--json', json);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^mae_tiny_28 batch 2 on cpu \(f32\): 2 steps, loss [\d.]+ -> [\d.]+$/m);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.run.losses.length, 2);
    assert.equal(report.run.pass, true);
  });

  it('refuses a batch whose memory does not fit, within seconds', () => {
    const t0 = performance.now();
    const r = run('--time', '--batch', '16,1000000');
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /--batch 1000000: mae_tiny_28 \(f32\) needs about [\d.]+ GiB on cpu, more than the [\d.]+ GiB .*; the largest batch that fits is \d+/,
    );
    assert.ok(performance.now() - t0 < 20000);
  });
});
