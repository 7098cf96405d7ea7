// The generated op checker (the program the lent GPU runs): CPU against CPU (each build of the CPU
// kernels this processor runs, MAE_CPU_ISA, against the baseline build) it must run every op
// variant's cases with every output written (poisoned outputs left unwritten would fail), and it
// must refuse a CUDA device that is not there with a clear message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ALL_OPS, CPU_ISAS, smallCheckCases } from '@mae-cuda/codegen';
import { binding } from '../src/binding.js';

const bin = new URL('../build/Release/mae_op_check', import.meta.url).pathname;

describe('mae_op_check', () => {
  before(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm build`);
  });
  const best = binding.buildInfo().cpuIsaBest;
  for (const isa of CPU_ISAS.slice(1, CPU_ISAS.indexOf(best) + 1)) {
    it(`checks every op variant, CPU (${isa} build) against CPU (baseline), with every output written`, function () {
      this.timeout(300000);
      const r = spawnSync(bin, ['--device', 'cpu', '--small', '--reps', '1', '--seed', '7'], {
        encoding: 'utf8',
        env: { ...process.env, MAE_CPU_ISA: isa },
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`op_check: cpu \\(${isa} kernels\\) against the CPU backend's baseline`),
      );
      const cases = ALL_OPS.reduce((n, op) => n + smallCheckCases(op) * op.variants.length, 0);
      assert.match(r.stdout, new RegExp(`op_check: ${cases} checked, 0 failed`));
      for (const op of ALL_OPS) assert.ok(r.stdout.includes(`ok   ${op.name}`), op.name);
    });
  }
  it('refuses a missing CUDA device with a clear message', () => {
    const r = spawnSync(bin, ['--device', 'cuda:7'], { encoding: 'utf8' });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /op_check: no CUDA device 7 \(found \d+; CUDA compiled: (yes|no)\)/);
  });
  it('rejects unknown arguments', () => {
    const r = spawnSync(bin, ['--frobnicate'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: op_check/);
  });
});
