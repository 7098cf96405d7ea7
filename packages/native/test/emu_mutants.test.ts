// emu_mutants.test.ts: a few of scripts/emu-mutants.mjs's seeded mutants of the device sources (a
// block reduction's barrier that only the warp-at-a-time schedule misses, the tensor-core GEMM's
// barrier between K tiles, its A fragment registers swapped, the SIMT GEMM's staging barrier) must
// each be killed by the emulator's op checker; the whole set and every barrier: the script itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../scripts/emu-mutants.mjs', import.meta.url));
const buildDir = fileURLToPath(new URL('../build', import.meta.url));
const MUTANTS = [
  'reduce-barrier-reuse',
  'gemm-mma-barrier-consumed',
  'gemm-mma-fragment-swap',
  'gemm-simt-barrier-staged',
];

describe('emu-mutants', () => {
  it('kills the seeded mutants CI runs', function () {
    this.timeout(30 * 60 * 1000);
    const r = spawnSync(
      process.execPath,
      [script, '--only-mutants', MUTANTS.join(','), '--build-dir', buildDir, '--no-baseline'],
      { encoding: 'utf8', timeout: 30 * 60 * 1000 },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const m of MUTANTS) assert.match(r.stdout, new RegExp(`^killed\\s+${m}\\s`, 'm'));
    assert.match(r.stdout, new RegExp(`emu-mutants: ${MUTANTS.length} killed, 0 survived`));
  });
});
