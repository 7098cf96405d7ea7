// kernel_report.test.ts: `mae-cuda kernel-report` (issue #15) on the emulated CUDA device: one step of
// a small preset counted and modeled on the H100 and H200 figures, labelled a model wherever it is
// printed, with ptxas's registers when the build has them and the serial estimate beside each time,
// and --json with every launch; refused,
// with the command to run, when CUDA is not emulated.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ptxasReportPath } from '@mae-cuda/native';
import { bin, tmp } from './pretrain_helpers.js';

const run = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [bin, 'kernel-report', ...args], {
    encoding: 'utf8',
    timeout: 600000,
    env: { ...process.env, ...env },
  });

describe('mae-cuda kernel-report', function () {
  this.timeout(600000);

  it('models one emulated step kernel by kernel, as a model', () => {
    const dir = tmp();
    try {
      const json = join(dir, 'report.json');
      const r = run(
        { MAE_CUDA_EMULATOR: '1' },
        '--batch',
        '4',
        '--sample-blocks',
        '2',
        '--top',
        '5',
        '--json',
        json,
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /^MODEL \(emulator counts, 2 blocks per grid; no GPU measured\) of mae_tiny_28 batch 4 on H100/m,
      );
      assert.match(r.stdout, /^MODEL: kernel classes on H100/m);
      // step ms, images/s, MFU, then the serial estimate (every load waiting its latency), never less
      const step = (gpu: string) => {
        const m = new RegExp(`^${gpu} SXM \\(model\\) +([0-9.]+) +[0-9]+ +[0-9.]+% +([0-9.]+)$`, 'm').exec(
          r.stdout,
        );
        assert.ok(m, `${gpu} step line`);
        assert.ok(Number(m[2]) >= Number(m[1]), `${gpu}: serial ${m[2]} >= modeled ${m[1]}`);
      };
      step('H100');
      step('H200');
      assert.match(r.stdout, /^MODEL: kernel classes on H100 .*\nclass +launches +us +of step +serial us$/m);
      // the emulated device is an sm_90 part: the GEMMs take the wgmma kernels
      assert.match(r.stdout, /^matmul_\w+_cuda_bf16_k0_wgmma(_split)? /m);
      const out = JSON.parse(readFileSync(json, 'utf8'));
      assert.match(out.model, /not a measurement/);
      assert.deepEqual(
        out.reports.map((x: { gpu: { name: string } }) => x.gpu.name),
        ['H100 SXM (model)', 'H200 SXM (model)'],
      );
      const launches = out.reports[0].launches as {
        counts: { kernel: string; mma: number; wgmma_flops: number; blocks_run: number };
        registers?: number;
      }[];
      assert.ok(launches.length > 100, `${launches.length} launches`);
      assert.ok(
        launches.some((l) => l.counts.kernel.includes('_wgmma') && l.counts.wgmma_flops > 0),
        'the GEMMs ran wgmma',
      );
      assert.ok(launches.every((l) => l.counts.blocks_run <= 2));
      if (existsSync(ptxasReportPath))
        assert.ok(
          launches.every((l) => (l.registers ?? 0) > 0),
          'registers from ptxas',
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to run without the emulator, saying how to run it', () => {
    const r = run({ MAE_CUDA_EMULATOR: '0' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /MAE_CUDA_EMULATOR=1 mae-cuda kernel-report/);
  });
});
