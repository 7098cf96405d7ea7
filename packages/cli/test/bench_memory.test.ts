// bench_memory.test.ts: the memory a benchmark may use (cgroup v2 and v1 limits, or none) and the
// refusal of a batch whose estimate exceeds it: the flag, the estimate, what is available and the
// largest batch that fits; a batch that fits is not refused.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMemory, preset } from '@mae-cuda/mae';
import { availableMemory, cgroupAvailable } from '../src/bench/available.js';
import { memoryRefusal } from '../src/bench/fits.js';

/** A fake cgroup mount with the given files. */
function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mae-cgroup-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), `${text}\n`);
  }
  return root;
}

describe('available memory', () => {
  it('reads the cgroup v2 and v1 limits less what is used, or nothing without a limit', () => {
    assert.equal(cgroupAvailable(cgroup({ 'memory.max': '1000000', 'memory.current': '250000' })), 750000);
    assert.equal(cgroupAvailable(cgroup({ 'memory.max': 'max', 'memory.current': '250000' })), undefined);
    const v1 = { 'memory/memory.limit_in_bytes': '4096', 'memory/memory.usage_in_bytes': '1024' };
    assert.equal(cgroupAvailable(cgroup(v1)), 3072);
    const unlimited = { 'memory/memory.limit_in_bytes': '9223372036854771712' };
    assert.equal(cgroupAvailable(cgroup(unlimited)), undefined);
    assert.equal(cgroupAvailable(cgroup({})), undefined);
  });

  it('on the CPU: the smaller of free memory and the cgroup allowance', () => {
    const tight = availableMemory('cpu', cgroup({ 'memory.max': '1000000', 'memory.current': '0' }));
    assert.deepEqual(tight, { bytes: 1000000, source: 'left under the cgroup memory limit' });
    const loose = availableMemory('cpu', cgroup({}));
    assert.equal(loose.source, 'available on this machine');
    assert.ok(Math.abs(loose.bytes - freemem()) < 2 ** 30);
  });
});

describe('memoryRefusal', () => {
  const model = preset('mae_tiny_28');
  const check = {
    flag: '--batch',
    name: 'mae_tiny_28',
    model,
    device: 'cpu',
    precision: 'auto',
    steps: 23,
  } as const;
  const available = { bytes: 2 ** 30, source: 'available on this machine' };

  it('names the flag, the estimate, what is available and the largest batch that fits', () => {
    const m = memoryRefusal({ ...check, batches: [64, 100000], available });
    assert.match(
      m!,
      /^--batch 100000: mae_tiny_28 \(f32\) needs about 82\.\d GiB on cpu, more than the 1\.0 GiB available on this machine; the largest batch that fits is (\d+)$/,
    );
    const fits = Number(/fits is (\d+)$/.exec(m!)![1]);
    assert.ok(benchMemory(model, fits, 'f32', 'cpu', 23) <= 2 ** 30);
    assert.ok(benchMemory(model, fits + 1, 'f32', 'cpu', 23) > 2 ** 30);
    assert.equal(memoryRefusal({ ...check, batches: [fits], available }), undefined);
  });

  it('does not refuse a normal batch on this machine, and says when not even batch 1 fits', () => {
    assert.equal(memoryRefusal({ ...check, batches: [64, 256] }), undefined);
    const tiny = { bytes: 2 ** 20, source: 'left under the cgroup memory limit' };
    assert.match(memoryRefusal({ ...check, batches: [1], available: tiny })!, /; not even batch 1 fits$/);
  });
});
