// gemm.test.ts: the CPU kernels' packed GEMM (codegen/src/emit/cpu.ts over src/cpu/cpu_gemm.h)
// against a float64 transcription, with every build of the CPU kernels this processor runs
// (gemm_blocks.ts in a process of its own per MAE_CPU_ISA), on fresh random values at sizes that
// cross every blocking boundary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CPU_ISAS } from '@mae-cuda/codegen';
import { binding } from '../../src/binding.js';

const SCRIPT = fileURLToPath(new URL('./gemm_blocks.ts', import.meta.url));

describe('cpu: the packed GEMM across its blocks', () => {
  const best = binding.buildInfo().cpuIsaBest;
  for (const isa of CPU_ISAS.slice(0, CPU_ISAS.indexOf(best) + 1)) {
    it(`equals a float64 transcription within 1e-5, ${isa} build`, function () {
      this.timeout(300000);
      const seed = String((Date.now() % 100000) + 1);
      const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, seed], {
        encoding: 'utf8',
        env: { ...process.env, MAE_CPU_ISA: isa },
      });
      assert.equal(r.status, 0, `seed ${seed}\n${r.stdout}${r.stderr}`);
      assert.equal(r.stdout.trim().split('\n').length, 18, r.stdout);
      for (const line of r.stdout.trim().split('\n')) assert.ok(line.startsWith(`${isa} `), line);
    });
  }
});
