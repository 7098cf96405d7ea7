// linprobe.test.ts: `mae-cuda linprobe` end to end with the tiny preset (a 2-step pretraining run's
// checkpoint): on the CPU it prints top-1/top-5 per epoch and the best, writes log.jsonl (one line
// per epoch) and the best head; under the CUDA emulator (--device cuda) it runs the same ops there;
// bad input (a missing checkpoint, a checkpoint of another shape, data without labels) exits 2
// naming the problem before any training.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blankImage, encodePng, loadCheckpoint, readSafetensors, saveCheckpoint } from '@mae-cuda/mae';
import { bin, smallPretrain, tmp } from './pretrain_helpers.js';

const mae = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 300000,
    env: { ...process.env, ...env },
  });
const emuAddon = new URL('../../native/build/Release/mae_native_emu.node', import.meta.url).pathname;
const SMALL_PROBE = [
  '--train',
  '96',
  '--test',
  '40',
  '--epochs',
  '2',
  '--warmup-epochs',
  '1',
  '--batch-size',
  '32',
];

describe('mae-cuda linprobe', function () {
  this.timeout(600000);
  let dir = '';
  let ckpt = '';
  before(() => {
    dir = tmp();
    ckpt = smallPretrain(dir);
  });

  it('trains the head on the CPU, prints top-1/top-5 per epoch and keeps the best head', async () => {
    const out = join(dir, 'probe');
    const r = mae({}, 'linprobe', '--checkpoint', ckpt, ...SMALL_PROBE, '--output-dir', out);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /linprobe \(cls token\) on mnist: 96 train \/ 40 held-out images \(the last class-balanced digits\), 10 classes/,
    );
    assert.match(r.stdout, /epoch 0: loss \d+\.\d+ top-1 \d+\.\d+% top-5 \d+\.\d+%/);
    assert.match(r.stdout, /best top-1 \d+\.\d+% \(top-5 \d+\.\d+%\) at epoch \d/);
    assert.match(r.stderr, /step +6\/6 epoch 1 loss .* img\/s ETA/);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      log.map((e) => e.epoch),
      [0, 1],
    );
    for (const e of log) {
      assert.ok(e.top1 >= 0 && e.top1 <= 100 && e.top5 >= e.top1, JSON.stringify(e));
      assert.ok(Number.isFinite(e.loss) && e.lr > 0, JSON.stringify(e));
    }
    const best = await readSafetensors(join(out, 'checkpoint-best.safetensors'));
    assert.deepEqual(best.tensors.get('head.1.weight')!.shape, [10, 64]);
    assert.deepEqual(best.tensors.get('head.0.running_var')!.shape, [64]);
    assert.ok(!existsSync(join(out, 'checkpoint-best.safetensors.tmp')));
  });

  it('--global-pool probes the mean of the patch tokens (--random-init: of the random-init model)', () => {
    const r = mae(
      {},
      'linprobe',
      '--checkpoint',
      ckpt,
      ...SMALL_PROBE,
      '--global-pool',
      '--random-init',
      '--output-dir',
      join(dir, 'gp'),
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /linprobe \(global pool, random init \(seed 0\)\)/);
    assert.match(r.stdout, /best top-1/);
  });

  it("holds out an idx folder's test split (Debian's Fashion-MNIST, when installed)", function () {
    const fashion = '/usr/share/datasets/fashion-mnist';
    if (!existsSync(join(fashion, 't10k-images-idx3-ubyte.gz'))) this.skip();
    const r = mae(
      {},
      'linprobe',
      '--checkpoint',
      ckpt,
      '--data',
      fashion,
      ...SMALL_PROBE,
      '--output-dir',
      join(dir, 'fashion'),
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /96 train \/ 40 held-out images \(.*t10k-images-idx3-ubyte\.gz\), 10 classes/);
  });

  it('runs under the CUDA emulator with --device cuda', function () {
    if (!existsSync(emuAddon)) this.skip();
    const out = join(dir, 'emu');
    const r = mae(
      { MAE_CUDA_EMULATOR: '1' },
      'linprobe',
      '--checkpoint',
      ckpt,
      '--device',
      'cuda',
      '--train',
      '16',
      '--test',
      '8',
      '--epochs',
      '1',
      '--warmup-epochs',
      '0',
      '--batch-size',
      '16',
      '--output-dir',
      out,
    );
    // one step and one evaluation run every op of the probe (the epochs' logic is the CPU tests')
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /device cuda/);
    assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 1);
  });

  describe('bad input exits 2 naming the problem, before any training', () => {
    const refused = (args: string[], pattern: RegExp) => {
      const r = mae({}, 'linprobe', ...args, '--output-dir', join(dir, 'bad'));
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, pattern);
      assert.ok(!existsSync(join(dir, 'bad', 'log.jsonl')), 'no training started');
    };
    it('a missing checkpoint', () =>
      refused(['--checkpoint', join(dir, 'nope.safetensors')], /mae-cuda linprobe: .*nope\.safetensors/));
    it('a checkpoint of another shape', async () => {
      const c = await loadCheckpoint(ckpt);
      const D = c.model.pos_embed!.shape[2]!;
      c.model.pos_embed = { dtype: 'F32', shape: [1, 5, D], data: new Float32Array(5 * D) };
      const bad = join(dir, 'bad_shape.safetensors');
      await saveCheckpoint(bad, c);
      refused(
        ['--checkpoint', bad],
        /mae-cuda linprobe: checkpoint .*bad_shape\.safetensors: .*misshaped\n +misshaped: pos_embed: expected \[1, 50, 64\], got \[1, 5, 64\]/,
      );
    });
    it('data without labels', () => {
      const folder = join(dir, 'unlabelled');
      mkdirSync(folder, { recursive: true });
      for (const k of [0, 1])
        writeFileSync(join(folder, `${k}.png`), encodePng(blankImage(28, 28, [k, k, k])));
      refused(['--checkpoint', ckpt, '--data', folder], /mae-cuda linprobe: .*unlabelled has no labels/);
    });
  });
});
