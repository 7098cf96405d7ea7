// pretrain.test.ts: `mae-cuda pretrain` in a child process: invalid settings exit 2 naming the
// flag (or config field) before any work; a --steps 3 smoke run writes log.jsonl, the checkpoint
// and reconstructions.png; a --config file is read and flags override it; --resume continues.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, PNG_SIGNATURE } from '@mae-cuda/mae';
import { bin, SMALL, tmp } from './pretrain_helpers.js';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'pretrain', ...args], { encoding: 'utf8', timeout: 120000 });

describe('mae-cuda pretrain', function () {
  this.timeout(120000);

  it('refuses invalid settings with exit 2, naming the flag, before any work', () => {
    const out = join(tmp(), 'never');
    const cases: [string[], RegExp][] = [
      [['--mask-ratio', '1'], /--mask-ratio: mask_ratio must be in \(0, 1\)/],
      [['--mask-ratio', '0'], /--mask-ratio/],
      [['--input-size', '30'], /--input-size: img_size 30 is not divisible by patch_size 4/],
      [['--num-heads', '5'], /--num-heads: embed_dim 64 is not divisible by num_heads 5/],
      [['--batch-size', '0'], /--batch-size: must be at least 1/],
      [['--epochs', 'many'], /--epochs: must be a number/],
      [['--steps'], /--steps: needs a value/],
      [['--model', 'vit_giant'], /--model:/],
      [['--warmup-epochs', '20', '--epochs', '10'], /--warmup-epochs/],
      [['--resume', '/nonexistent/ckpt.safetensors'], /--resume: .* is not a file/],
      [['--data', '/nonexistent/digits'], /--data:/],
      [['--colour', 'red'], /unknown option --colour/],
      [['--batch-size', '8000'], /--batch-size: the dataset has 7616 images, too few for one step/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args, '--output-dir', out);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.ok(!existsSync(join(out, 'checkpoint-last.safetensors')), `${args.join(' ')} did work`);
    }
  });

  it('--steps 3 writes log.jsonl, the checkpoint and reconstructions.png', async () => {
    const out = tmp();
    // the end-of-run evaluation's line in log.jsonl: pretrain_eval.test.ts
    const r = run(
      '--steps',
      '3',
      '--output-dir',
      out,
      '--limit',
      '512',
      '--batch-size',
      '32',
      '--eval',
      'none',
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /pretraining mae_tiny_28 .* on 512 mnist images/);
    assert.match(r.stdout, /done: 3 steps, loss \d+\.\d+ -> \d+\.\d+/);
    assert.match(r.stderr, /step 3\/3 epoch 0 loss \d/);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(log.length, 1);
    assert.equal(log[0].steps, 3);
    assert.equal(log[0].partial, true);
    const ck = await loadCheckpoint(join(out, 'checkpoint-last.safetensors'));
    assert.equal(ck.step, 3);
    assert.ok(Object.keys(ck.optimizer).some((k) => k.startsWith('exp_avg.')));
    const png = readFileSync(join(out, 'reconstructions.png'));
    assert.deepEqual(new Uint8Array(png.subarray(0, 8)), PNG_SIGNATURE);
    // 4 columns and 8 rows of 28x28 images scaled 3x with 4-pixel gaps
    assert.equal(png.readUInt32BE(16), 4 * 84 + 5 * 4);
    assert.equal(png.readUInt32BE(20), 8 * 84 + 9 * 4);
    assert.ok(existsSync(join(out, 'loss.png')));
  });

  it('reads --config, lets flags override it and names bad fields of the file', async () => {
    const dir = tmp();
    const cfg = join(dir, 'run.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        mask_ratio: 0.5,
        steps: 4,
        limit: 256,
        batch_size: 16,
        embed_dim: 16,
        num_heads: 2,
        depth: 1,
        output_dir: join(dir, 'out'),
      }),
    );
    const r = run('--config', cfg, '--steps', '2');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const saved = JSON.parse(readFileSync(join(dir, 'out', 'config.json'), 'utf8'));
    assert.equal(saved.model.mask_ratio, 0.5);
    assert.equal(saved.model.embed_dim, 16);
    assert.equal(saved.train.steps, 2);
    assert.equal((await loadCheckpoint(join(dir, 'out', 'checkpoint-last.safetensors'))).step, 2);

    writeFileSync(cfg, JSON.stringify({ mask_ratio: 2 }));
    const bad = run('--config', cfg);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /mask_ratio \(in .*run\.json\): mask_ratio must be in \(0, 1\)/);
    const fixed = run(
      '--config',
      cfg,
      '--mask-ratio',
      '0.6',
      '--steps',
      '1',
      ...SMALL,
      '--output-dir',
      join(dir, 'o2'),
      '--limit',
      '128',
    );
    assert.equal(fixed.status, 0, fixed.stderr);
    writeFileSync(cfg, '{not json');
    assert.match(run('--config', cfg).stderr, /--config: .* is not valid JSON/);
  });

  it('--resume continues from the checkpoint', () => {
    const out = tmp();
    const common = [...SMALL, '--limit', '256', '--batch-size', '32', '--output-dir', out];
    assert.equal(run(...common, '--steps', '2').status, 0);
    const r = run(...common, '--steps', '4', '--resume', join(out, 'checkpoint-last.safetensors'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /resumed from .* at step 2/);
    assert.match(r.stdout, /done: 4 steps/);
  });
});
