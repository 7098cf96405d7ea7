// pretrain_large.test.ts: a real mae_vit_large_patch16 (its widths and depths, on 28x28 digits in
// 2x2 patches of 14) through `mae-cuda pretrain --steps 1`, then resumed with --resume: its
// checkpoint (~3.9 GB with the AdamW moments, over Node's 2 GiB readFile limit) is written and
// read tensor by tensor. About a minute and a half and 7 GB of memory on 2 cores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { readCheckpointInfo } from '@mae-cuda/mae';
import { bin, tmp } from './pretrain_helpers.js';

const ARGS = [
  '--model',
  'mae_vit_large_patch16',
  '--input-size',
  '28',
  '--patch-size',
  '14',
  '--batch-size',
  '8',
];
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'pretrain', ...ARGS, ...args], { encoding: 'utf8', timeout: 300000 });

describe('mae-cuda pretrain with ViT-L', function () {
  this.timeout(600000);

  it('writes a mae_vit_large_patch16 checkpoint over 2 GiB with --steps 1 and resumes it', async function () {
    if (freemem() < 10 * 2 ** 30) this.skip(); // prints as pending: not enough memory here
    const out = tmp();
    try {
      // --eval none: encoding 6,000 digits twice with ViT-L is not what this checks
      const common = ['--limit', '64', '--preview', '0', '--eval', 'none', '--output-dir', out];
      const a = run(...common, '--steps', '1');
      assert.equal(a.status, 0, a.stdout + a.stderr);
      const ckpt = join(out, 'checkpoint-last.safetensors');
      assert.ok(statSync(ckpt).size > 3.5 * 2 ** 30, `${statSync(ckpt).size} bytes`);
      const b = run(...common, '--steps', '2', '--resume', ckpt);
      assert.equal(b.status, 0, b.stdout + b.stderr);
      assert.match(b.stdout, /resumed from .* at step 1/);
      assert.match(b.stdout, /done: 2 steps/);
      assert.equal((await readCheckpointInfo(ckpt)).step, 2);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
