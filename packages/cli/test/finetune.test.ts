// finetune.test.ts: `mae-cuda finetune` end to end with the tiny preset (a 2-step pretraining run's
// checkpoint): on the CPU with mixup, cutmix, drop path and layer decay it prints top-1/top-5 per
// epoch and the best, writes log.jsonl and the best model (models_vit's names, no decoder); the
// cls token; RandAugment and random erasing (--aa, --reprob, --remode, --recount) change the
// training and are recorded, --aa none --reprob 0 turns them off; the partial fine-tuning
// options leave the frozen parameters exactly as loaded; under the CUDA emulator (--device cuda) it
// runs the same ops there; bad input and bad flags exit 2 naming the problem before any training.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@mae-cuda/mae';
import { bin, smallPretrain, tmp } from './pretrain_helpers.js';

const mae = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 300000,
    env: { ...process.env, ...env },
  });
const emuAddon = new URL('../../native/build/Release/mae_native_emu.node', import.meta.url).pathname;
const SMALL = [
  '--train',
  '64',
  '--test',
  '24',
  '--epochs',
  '2',
  '--warmup-epochs',
  '1',
  '--batch-size',
  '16',
];

// one epoch of two steps
const ONE_EPOCH = [
  '--train',
  '32',
  '--test',
  '8',
  '--epochs',
  '1',
  '--warmup-epochs',
  '0',
  '--batch-size',
  '16',
];

describe('mae-cuda finetune', function () {
  this.timeout(600000);
  let dir = '';
  let ckpt = '';
  before(() => {
    dir = tmp();
    ckpt = smallPretrain(dir);
  });

  it('fine-tunes on the CPU (mixup, cutmix, drop path, layer decay), logs each epoch and keeps the best model', async () => {
    const out = join(dir, 'ft');
    const r = mae(
      {},
      'finetune',
      '--finetune',
      ckpt,
      ...SMALL,
      '--mixup',
      '0.8',
      '--cutmix',
      '1',
      '--drop-path',
      '0.2',
      '--layer-decay',
      '0.65',
      '--output-dir',
      out,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /finetune \(global pool, training all\) on mnist: 64 train \/ 24 held-out images \(the last class-balanced digits\), 10 classes/,
    );
    assert.match(r.stdout, /epoch 1: loss \d+\.\d+ top-1 \d+\.\d+% top-5 \d+\.\d+%/);
    assert.match(r.stdout, /best top-1 \d+\.\d+% \(top-5 \d+\.\d+%\) at epoch \d/);
    assert.match(r.stderr, /step +8\/8 epoch 1 loss .* img\/s ETA/);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      log.map((e) => e.epoch),
      [0, 1],
    );
    for (const e of log)
      assert.ok(e.top5 >= e.top1 && Number.isFinite(e.loss) && e.lr > 0, JSON.stringify(e));
    const best = await loadCheckpoint(join(out, 'checkpoint-best.safetensors'));
    assert.deepEqual(best.model['head.weight']!.shape, [10, 64]);
    assert.ok(best.model['fc_norm.weight'] && !best.model['norm.weight'] && !best.model.mask_token);
    assert.equal((best.config as { pool: string }).pool, 'global');
    assert.ok(!existsSync(join(out, 'checkpoint-best.safetensors.tmp')));
  });

  it('--cls-token: the cls token through norm', async () => {
    const out = join(dir, 'cls');
    const r = mae({}, 'finetune', '--finetune', ckpt, ...SMALL, '--cls-token', '--output-dir', out);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /finetune \(cls token, training all\)/);
    const best = await loadCheckpoint(join(out, 'checkpoint-best.safetensors'));
    assert.deepEqual(best.model.pos_embed!.shape, [1, 50, 64]);
    assert.ok(best.model['norm.weight'] && !best.model['fc_norm.weight']);
  });

  it('--aa, --reprob, --remode, --recount: RandAugment and random erasing (on by default), or off', async () => {
    const run = (name: string, ...flags: string[]) => {
      const out = join(dir, name);
      const r = mae({}, 'finetune', '--finetune', ckpt, ...ONE_EPOCH, ...flags, '--output-dir', out);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return { stdout: r.stdout, loss: JSON.parse(readFileSync(join(out, 'log.jsonl'), 'utf8')).loss, out };
    };
    const official = run('aug-default');
    assert.match(
      official.stdout,
      /training view: crop \+ flip, RandAugment rand-m9-mstd0\.5-inc1, random erasing 0\.25 \(pixel, 1 box\)/,
    );
    const other = run(
      'aug-other',
      '--aa',
      'rand-m9-n3-mstd1',
      '--reprob',
      '1',
      '--remode',
      'rand',
      '--recount',
      '2',
    );
    assert.match(other.stdout, /RandAugment rand-m9-n3-mstd1, random erasing 1 \(rand, 1-2 boxes\)/);
    const off = run('aug-off', '--aa', 'none', '--reprob', '0');
    assert.match(off.stdout, /training view: crop \+ flip, no RandAugment, no random erasing/);
    assert.equal(
      new Set([official.loss, other.loss, off.loss]).size,
      3,
      `${official.loss} ${other.loss} ${off.loss}`,
    );
    assert.equal(run('aug-again').loss, official.loss, 'deterministic for the seed');
    const best = await loadCheckpoint(join(other.out, 'checkpoint-best.safetensors'));
    const settings = (best.config as { finetune: Record<string, unknown> }).finetune;
    assert.deepEqual(
      [settings.aa, settings.reprob, settings.remode, settings.recount],
      ['rand-m9-n3-mstd1', 1, 'rand', 2],
    );
  });

  for (const [flags, trained] of [
    [['--trainable-blocks', '1'], /^(blocks\.3\.|fc_norm\.|head\.)/],
    [['--trainable', 'mlp-last'], /^(blocks\.3\.(norm2|mlp)\.|fc_norm\.|head\.)/],
  ] as const)
    it(`${flags.join(' ')} trains only those parameters (the rest exactly as loaded)`, async () => {
      const out = join(dir, flags.join('_'));
      const r = mae({}, 'finetune', '--finetune', ckpt, ...SMALL, ...flags, '--output-dir', out);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const [before, after] = [
        await loadCheckpoint(ckpt),
        await loadCheckpoint(join(out, 'checkpoint-best.safetensors')),
      ];
      for (const [name, t] of Object.entries(after.model)) {
        if (name.startsWith('head.') || name.startsWith('fc_norm.')) continue;
        const same = Buffer.from(t.data.buffer).equals(Buffer.from(before.model[name]!.data.buffer));
        assert.equal(!same, trained.test(name), `${name} ${same ? 'unchanged' : 'changed'}`);
      }
    });

  it('runs under the CUDA emulator with --device cuda', function () {
    if (!existsSync(emuAddon)) this.skip();
    const out = join(dir, 'emu');
    const r = mae(
      { MAE_CUDA_EMULATOR: '1' },
      'finetune',
      '--finetune',
      ckpt,
      '--device',
      'cuda',
      '--train',
      '16',
      '--test',
      '8',
      '--epochs',
      '2',
      '--batch-size',
      '8',
      '--mixup',
      '0.8',
      '--cutmix',
      '1',
      '--drop-path',
      '0.3',
      '--output-dir',
      out,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /device cuda/);
    assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
  });

  describe('bad input exits 2 naming the problem, before any training', () => {
    const refused = (args: string[], pattern: RegExp) => {
      const r = mae({}, 'finetune', ...args, '--output-dir', join(dir, 'bad'));
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, pattern);
      assert.ok(!existsSync(join(dir, 'bad', 'log.jsonl')), 'no training started');
    };
    it('no checkpoint', () => refused([], /--finetune FILE/));
    it('a missing checkpoint', () =>
      refused(['--finetune', join(dir, 'nope.safetensors')], /mae-cuda finetune: .*nope\.safetensors/));
    it('more trainable blocks than the model has', () =>
      refused(
        ['--finetune', ckpt, '--trainable-blocks', '9'],
        /--trainable-blocks 9: the model has 4 blocks/,
      ));
    it('both partial options', () =>
      refused(['--finetune', ckpt, '--trainable-blocks', '1', '--trainable', 'mlp-last'], /not both/));
    it('an odd batch with mixup', () =>
      refused(['--finetune', ckpt, '--mixup', '0.8', '--batch-size', '15'], /must be even/));
    it('an input size the patches do not divide', () =>
      refused(['--finetune', ckpt, '--input-size', '30'], /not divisible by patch_size/));
    it('a bad flag value', () => refused(['--finetune', ckpt, '--layer-decay', '1.5'], /layer-decay/));
    it('an --aa that is not RandAugment', () =>
      refused(['--finetune', ckpt, '--aa', 'foo'], /--aa: "foo" is not a RandAugment setting/));
    it('a --reprob above 1', () =>
      refused(['--finetune', ckpt, '--reprob', '2'], /--reprob: must be a number from 0 to 1, got 2/));
  });
});
