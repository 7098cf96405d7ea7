// linprobe_resume.test.ts: `mae-cuda linprobe --resume` and --accum-iter on the CPU with the tiny
// preset. A run killed (SIGKILL) in epoch 1 and resumed with --resume auto ends with exactly the
// bytes of an uninterrupted run (checkpoint-last: the head, its running statistics, LARS's
// buffers, step, best; checkpoint-best; log.jsonl but its timings), accumulating 2 iterations. A
// second run into the folder is refused (naming --resume and --overwrite). Another encoder, pool
// or class count is refused naming it. --accum-iter 2 x batch 8 takes the LARS steps of batch 16 at
// the same lrs (the weights differ: BatchNorm normalises each iteration's batch); a bad value exits
// 2 naming the flag.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@mae-cuda/mae';
import { smallPretrain, tmp } from './pretrain_helpers.js';
import { assertRefused, assertResumesExactly, logOf, mae, withRecord } from './resume_helpers.js';

const LAST = 'checkpoint-last.safetensors';

describe('mae-cuda linprobe --resume, --accum-iter', function () {
  this.timeout(600000);
  let dir = '';
  let args: string[] = [];
  before(() => {
    dir = tmp();
    // 4 iterations an epoch, 2 LARS steps with --accum-iter 2
    args = ['linprobe', '--checkpoint', smallPretrain(dir), '--train', '32', '--test', '8', '--blr', '20'];
  });

  it('killed in epoch 1 and resumed: the bytes of the uninterrupted run', async () => {
    const flags = [...args, '--epochs', '3', '--batch-size', '8', '--accum-iter', '2'];
    const last = await loadCheckpoint(await assertResumesExactly(flags, dir, 2));
    assert.deepEqual([last.step, last.epoch], [6, 3]);
    assert.deepEqual(Object.keys(last.optimizer).sort(), ['mu.head.1.bias', 'mu.head.1.weight']);
    assert.deepEqual(Object.keys(last.model).sort(), [
      'head.0.running_mean',
      'head.0.running_var',
      'head.1.bias',
      'head.1.weight',
    ]);
    const again2 = mae(...flags, '--output-dir', join(dir, 'cut'));
    assert.equal(again2.status, 2);
    assert.match(again2.stderr, /--output-dir: .* already holds .*--resume auto.*--overwrite/);
  });

  describe('a resume that would change the probe is refused, naming the setting', () => {
    let last = '';
    before(() => {
      const out = join(dir, 'shaped');
      assert.equal(mae(...args, '--epochs', '2', '--batch-size', '16', '--output-dir', out).status, 0);
      last = join(out, LAST);
    });
    const refused = (flags: string[], pattern: RegExp, from = () => last) =>
      assertRefused(
        [...args, '--epochs', '3', '--batch-size', '16', ...flags, '--resume', from()],
        join(dir, 'refused'),
        pattern,
      );
    it('--global-pool', () =>
      refused(
        ['--global-pool'],
        /trained with the cls token's features \(no --global-pool\); this run has --global-pool/,
      ));
    it('another encoder', async () => {
      const wider = await withRecord(last, join(dir, 'wider.safetensors'), (c) => {
        c.model = { ...(c.model as object), embed_dim: 96 };
      });
      refused(
        [],
        /was made for another model: embed_dim 96 \(asked: 64\) \(the model --checkpoint .* gives\)/,
        () => wider,
      );
    });
    it('the class count', async () => {
      const five = await withRecord(last, join(dir, 'five.safetensors'), (c) => {
        c.classes = 5;
      });
      refused([], /trained with 5 classes \(--data\); this run has 10 classes \(--data\)/, () => five);
    });
  });

  it('--accum-iter 2 x batch 8 takes the LARS steps of batch 16 at the same lrs', async () => {
    const [a, b] = [join(dir, 'accum2'), join(dir, 'batch16')];
    const common = [...args, '--epochs', '2'];
    assert.equal(mae(...common, '--batch-size', '8', '--accum-iter', '2', '--output-dir', a).status, 0);
    assert.equal(mae(...common, '--batch-size', '16', '--output-dir', b).status, 0);
    const [x, y] = [await loadCheckpoint(join(a, LAST)), await loadCheckpoint(join(b, LAST))];
    assert.deepEqual([x.step, y.step], [4, 4]);
    assert.deepEqual(
      logOf(a).map((e) => e.lr),
      logOf(b).map((e) => e.lr),
    );
  });

  it('--accum-iter 0 exits 2 naming the flag', () => {
    const r = mae(...args, '--accum-iter', '0', '--output-dir', join(dir, 'bad'));
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^mae-cuda linprobe: --accum-iter: must be a whole number from 1/);
    assert.ok(!existsSync(join(dir, 'bad')));
  });
});
