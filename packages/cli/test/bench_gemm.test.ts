// bench_gemm.test.ts: `mae-cuda bench-gemm` prints the CPU's measured peak and, per shape, the
// three products of a linear layer with figures that hang together (GFLOP/s = 2MNK / time, the
// share of the peak), writes them as JSON, and refuses a malformed shape before any work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'bench-gemm', ...args], { encoding: 'utf8', timeout: 120000 });

describe('mae-cuda bench-gemm', function () {
  this.timeout(120000);

  it('times forward, input and weight gradients per shape against the measured peak', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-gemm-')), 'g.json');
    const r = run('--shapes', '67x130x300,5x7x3', '--reps', '2', '--json', json);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CPU peak \d+\.\d GFLOP\/s f32 \(measured: /);
    assert.match(r.stdout, /^MxNxK +product +op +ms +GFLOP\/s +of peak$/m);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    assert.ok(out.peak.gflops > 0);
    assert.deepEqual(
      out.rows.map((x: { timing: { product: string; op: string } }) => `${x.timing.product}:${x.timing.op}`),
      [
        'forward:linear_forward',
        'input grad:matmul_nn',
        'weight grad:matmul_tn',
        'forward:linear_forward',
        'input grad:matmul_nn',
        'weight grad:matmul_tn',
      ],
    );
    for (const { shape, timing } of out.rows) {
      const flops = 2 * shape.m * shape.n * shape.k;
      assert.ok(Math.abs(timing.gflops - flops / timing.ms / 1e6) < 1e-9 * timing.gflops);
      const line = `${shape.m}x${shape.n}x${shape.k} +${timing.product}`;
      const pct = ((100 * timing.gflops) / out.peak.gflops).toFixed(1);
      assert.match(
        r.stdout,
        new RegExp(`^${line} +${timing.op} +[\\d.]+ +${timing.gflops.toFixed(1)} +${pct}%$`, 'm'),
      );
    }
  });

  it('refuses a malformed shape, naming the flag (exit 2)', () => {
    for (const bad of ['12x3', '0x4x4', 'axbxc', '70000x70000x1']) {
      const r = run('--shapes', bad);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--shapes/);
      assert.match(r.stderr, /give MxNxK/);
    }
  });
});
