// finetune_resume.test.ts: `mae-cuda finetune --resume`, --accum-iter and --clip-grad on the CPU
// with the tiny preset. A run killed (SIGKILL) in epoch 1 and resumed with --resume auto ends with
// exactly the bytes of an uninterrupted run (checkpoint-last: weights, AdamW's moments, step, best;
// checkpoint-best; log.jsonl but its timings), with mixup, cutmix, drop path, RandAugment, random
// erasing, accumulation and clipping on. A second run into the folder is refused (naming --resume
// and --overwrite); --overwrite starts over. Another model, pool, trained part or class count is
// refused naming it. --accum-iter 2 x batch 8 takes the optimiser steps of batch 16 at the same
// lrs and lands on the same weights but for rounding; bad values exit 2 naming the flag.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@mae-cuda/mae';
import { assertSameWeights, smallPretrain, tmp } from './pretrain_helpers.js';
import { assertRefused, assertResumesExactly, logOf, mae, withRecord } from './resume_helpers.js';

const LAST = 'checkpoint-last.safetensors';

describe('mae-cuda finetune --resume, --accum-iter, --clip-grad', function () {
  this.timeout(600000);
  let dir = '';
  let args: string[] = [];
  let ckpt = '';
  before(() => {
    dir = tmp();
    ckpt = smallPretrain(dir);
    // 4 iterations an epoch, 2 optimiser steps
    args = ['finetune', '--finetune', ckpt, '--train', '32', '--test', '8', '--batch-size', '8'];
  });

  it('killed in epoch 1 and resumed: the bytes of the uninterrupted run', async () => {
    const all = [...args, ...'--epochs 3 --blr 0.05 --mixup 0.8 --cutmix 1 --drop-path 0.2'.split(' ')];
    const flags = [...all, '--accum-iter', '2', '--clip-grad', '0.5'];
    const last = await loadCheckpoint(await assertResumesExactly(flags, dir, 2));
    assert.deepEqual([last.step, last.epoch], [6, 3]);
    assert.ok(last.optimizer['exp_avg.head.weight'] && last.optimizer['exp_avg_sq.blocks.0.attn.qkv.weight']);
    assert.deepEqual((last.config as { trainable: unknown }).trainable, { kind: 'all' });
  });

  it('a second run into the folder is refused; --overwrite starts over; --resume auto at the end has nothing to do', () => {
    const out = join(dir, 'twice');
    assert.equal(mae(...args, '--epochs', '2', '--output-dir', out).status, 0);
    const r = mae(...args, '--epochs', '2', '--output-dir', out);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /--output-dir: .* already holds .*checkpoint-last.*--resume .*--resume auto.*--overwrite/,
    );
    const done = mae(...args, '--epochs', '2', '--output-dir', out, '--resume', 'auto');
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /nothing to do: .* is at epoch 2 of 2/);
    const over = mae(...args, '--epochs', '2', '--seed', '1', '--output-dir', out, '--overwrite');
    assert.equal(over.status, 0, over.stderr);
    assert.match(
      over.stdout,
      /--overwrite: removed .*checkpoint-last\.safetensors.*checkpoint-best\.safetensors/,
    );
    assert.deepEqual(
      logOf(out).map((e) => e.epoch),
      [0, 1],
    );
    const changed = mae(...args, '--epochs', '4', '--output-dir', out, '--resume', 'auto');
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stdout, /warning: --epochs, --seed differ from the checkpoint's run/);
  });

  describe('a resume that would change the model is refused, naming the setting', () => {
    let last = '';
    before(() => {
      const out = join(dir, 'shaped');
      assert.equal(mae(...args, '--epochs', '2', '--trainable-blocks', '2', '--output-dir', out).status, 0);
      last = join(out, LAST);
    });
    const refused = (flags: string[], pattern: RegExp, from = () => last) =>
      assertRefused([...args, '--epochs', '3', ...flags, '--resume', from()], join(dir, 'refused'), pattern);
    it('--cls-token', () =>
      refused(
        ['--trainable-blocks', '2', '--cls-token'],
        /trained with the global pool \(no --cls-token\); this run has --cls-token/,
      ));
    it('--trainable-blocks', () =>
      refused(
        ['--trainable-blocks', '1'],
        /trained with --trainable-blocks 2; this run has --trainable-blocks 1/,
      ));
    it('another model', async () => {
      const deeper = await withRecord(last, join(dir, 'deeper.safetensors'), (c) => {
        c.model = { ...(c.model as object), depth: 6 };
      });
      refused(
        ['--trainable-blocks', '2'],
        /--resume: checkpoint .* was made for another model: depth 6 \(asked: 4\) \(the model --finetune .* gives\)/,
        () => deeper,
      );
    });
    it('the class count', async () => {
      const five = await withRecord(last, join(dir, 'five.safetensors'), (c) => {
        c.classes = 5;
      });
      refused(
        ['--trainable-blocks', '2'],
        /trained with 5 classes \(--data\); this run has 10 classes \(--data\)/,
        () => five,
      );
    });
    it('a checkpoint that is not a checkpoint-last', () =>
      refused([], /--resume: .* is not a checkpoint-last of linprobe or finetune/, () => ckpt));
  });

  it('--accum-iter 2 x batch 8 takes the steps of batch 16 at the same lrs, to the same weights but for rounding', async () => {
    const common = [...args, '--epochs', '2', '--drop-path', '0', '--blr', '0.05'];
    const [a, b] = [join(dir, 'accum2'), join(dir, 'batch16')];
    assert.equal(mae(...common, '--accum-iter', '2', '--output-dir', a).status, 0);
    assert.equal(mae(...common.map((x) => (x === '8' ? '16' : x)), '--output-dir', b).status, 0);
    const y = await assertSameWeights(a, b); // within rounding
    const x = await loadCheckpoint(join(a, LAST));
    assert.deepEqual([x.step, y.step], [4, 4]);
    const [la, lb] = [logOf(a), logOf(b)];
    assert.deepEqual(
      la.map((e) => e.lr),
      lb.map((e) => e.lr),
    );
    for (const [i, e] of la.entries())
      assert.ok(Math.abs((e.loss as number) - (lb[i]!.loss as number)) < 1e-5);
  });

  it('--clip-grad changes the training', () => {
    const run = (name: string, ...flags: string[]) => {
      const r = mae(...args, '--epochs', '2', ...flags, '--output-dir', join(dir, name));
      assert.equal(r.status, 0, r.stderr);
      return logOf(join(dir, name)).map((e) => e.loss);
    };
    assert.notDeepEqual(run('clipped', '--clip-grad', '1e-6'), run('unclipped'));
  });

  for (const [flag, value, why] of [
    ['--accum-iter', '0', 'must be a whole number from 1'],
    ['--accum-iter', '1.5', 'must be a whole number from 1'],
    ['--clip-grad', '0', 'must be a number above 0'],
    ['--clip-grad', '-1', 'must be a number above 0'],
    ['--resume', '/nonexistent/checkpoint-last.safetensors', '.* is not a file'],
  ] as const)
    it(`${flag} ${value} exits 2 naming the flag`, () => {
      const r = mae(...args, '--epochs', '2', flag, value, '--output-dir', join(dir, 'bad'));
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`^mae-cuda finetune: ${flag}: ${why}`));
      assert.ok(!existsSync(join(dir, 'bad')), 'nothing written');
    });
});
