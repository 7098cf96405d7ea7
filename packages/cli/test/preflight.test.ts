// preflight.test.ts: the CLI refuses a bad OMP_NUM_THREADS or OMP_WAIT_POLICY before anything
// loads, with one line naming the variable and exit code 2 (OMP_NUM_THREADS=100000 crashed it), and
// a MAE_CPU_ISA the build or processor cannot honour as the addon loads; a valid one is followed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const max = 4 * availableParallelism();

function run(env: NodeJS.ProcessEnv, ...args: string[]) {
  const base = { ...process.env };
  delete base.OMP_NUM_THREADS;
  delete base.OMP_WAIT_POLICY;
  delete base.MAE_CPU_ISA;
  return spawnSync(process.execPath, [bin, ...args], {
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
}

describe('mae-cuda: OpenMP settings checked at startup', function () {
  this.timeout(120000);

  it('refuses OMP_NUM_THREADS that is not 1 to 4 x the processors, naming it (exit 2)', () => {
    for (const bad of ['100000', String(max + 1), '0', '-1', 'four', '', '4,0']) {
      const r = run({ OMP_NUM_THREADS: bad }, 'pretrain', '--steps', '1');
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `mae-cuda: OMP_NUM_THREADS=${JSON.stringify(bad)}: must be a thread count from 1 to ${max} ` +
          `(4 x the ${max / 4} processors available), or a comma-separated list of them\n`,
      );
      assert.equal(r.stdout, '');
    }
  });

  it('refuses an OMP_WAIT_POLICY that is neither passive nor active (exit 2)', () => {
    const r = run({ OMP_WAIT_POLICY: 'pasive' }, 'info');
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /^mae-cuda: OMP_WAIT_POLICY="pasive": must be 'passive' \(idle threads sleep\) or 'active'/,
    );
  });

  it('accepts a count in range and OpenMP list forms (the first is used)', () => {
    const r = run({ OMP_NUM_THREADS: `${max},1`, OMP_WAIT_POLICY: 'Active' }, 'info', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      { threads: JSON.parse(r.stdout).openmp.threads, waitPolicy: JSON.parse(r.stdout).openmp.waitPolicy },
      { threads: max, waitPolicy: 'active' },
    );
  });

  it('refuses a MAE_CPU_ISA that names no build, and follows one the processor runs', () => {
    const bad = run({ MAE_CPU_ISA: 'avx9' }, 'info');
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(
      bad.stderr,
      'mae-cuda: MAE_CPU_ISA=avx9 is not a CPU kernel build (default, avx2 or avx512)\n',
    );
    const best = JSON.parse(run({}, 'info', '--json').stdout).cpu.best as string;
    for (const isa of ['default', 'avx2', 'avx512']) {
      const r = run({ MAE_CPU_ISA: isa }, 'info', '--json');
      const runs = ['default', 'avx2', 'avx512'].indexOf(isa) <= ['default', 'avx2', 'avx512'].indexOf(best);
      if (runs) {
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout).cpu, { kernels: isa, best });
      } else {
        assert.equal(r.status, 2);
        assert.match(
          r.stderr,
          new RegExp(`MAE_CPU_ISA=${isa}: this processor or build cannot run those kernels`),
        );
      }
    }
  });
});
