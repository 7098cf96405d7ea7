// pretrain_ablations.test.ts: the ablation flags of `mae-cuda pretrain` in a child process:
// --mask-sampling refusals name the flag; block and grid sampling train end to end on the CPU, with
// their masks in reconstructions.png's preview; on the emulated CUDA device (captured step, scores
// uploaded before each replay) the losses are the CPU's. --aug: every augmentation trains on a
// generated folder of JPEGs (different images, so different losses); refusals name the flag.
// --encoder-mask-token: trains on the CPU with the token in its checkpoint, resumes exactly, refuses
// a checkpoint of the other model by name, gives the CPU's losses on the emulated CUDA device, and
// finetune takes its encoder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '@mae-cuda/mae';
import { bin, jpegFolder, SMALL, tmp } from './pretrain_helpers.js';

const run = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [bin, 'pretrain', ...args], {
    encoding: 'utf8',
    timeout: 600000,
    env: { ...process.env, ...env },
  });
const losses = (dir: string) =>
  readFileSync(join(dir, 'loss.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[1]));
const emuAddon = new URL('../../native/build/Release/mae_native_emu.node', import.meta.url).pathname;

/** A run's losses on the CPU and on the emulated CUDA device (the captured step) agree within 1e-4. */
function assertEmulatedLikeCpu(args: string[], steps: number): void {
  if (!existsSync(emuAddon)) throw new Error(`${emuAddon} is missing: pnpm build builds it`);
  const [cpu, cuda] = [tmp(), tmp()];
  let r = run({}, ...args, '--output-dir', cpu);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  r = run({ MAE_CUDA_EMULATOR: '1' }, ...args, '--device', 'cuda', '--output-dir', cuda);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const [a, b] = [losses(cpu), losses(cuda)];
  assert.equal(b.length, steps);
  a.forEach((l, i) => assert.ok(Math.abs(l - b[i]!) <= 1e-4 * Math.abs(l), `step ${i + 1}: ${l} vs ${b[i]}`));
}

describe('mae-cuda pretrain --mask-sampling', function () {
  this.timeout(900000);

  it('refuses grid at another ratio and an unknown strategy, naming the flag', () => {
    const out = join(tmp(), 'never');
    for (const [args, message] of [
      [['--mask-sampling', 'grid', '--mask-ratio', '0.6'], /--mask-sampling: .*2x2.*--mask-ratio is 0\.6/],
      [['--mask-sampling', 'blocks'], /--mask-sampling:/],
    ] as const) {
      const r = run({}, ...args, '--output-dir', out);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(out));
    }
  });

  for (const sampling of ['block', 'grid'])
    it(`${sampling}: --steps 2 trains on the CPU and records the setting`, () => {
      const out = tmp();
      const r = run(
        {},
        '--mask-sampling',
        sampling,
        ...SMALL,
        '--steps',
        '2',
        '--limit',
        '256',
        '--batch-size',
        '16',
        '--output-dir',
        out,
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(losses(out).length, 2);
      assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).train.mask_sampling, sampling);
      assert.ok(existsSync(join(out, 'reconstructions.png')));
    });

  it('block: the emulated CUDA step (captured graph) gives the CPU losses', () => {
    const common = [
      '--mask-sampling',
      'block',
      ...SMALL,
      '--precision',
      'f32',
      '--steps',
      '3',
      '--limit',
      '256',
      '--batch-size',
      '8',
      '--preview',
      '0',
      '--eval',
      'none',
    ];
    assertEmulatedLikeCpu(common, 3);
  });
});

describe('mae-cuda pretrain --aug', function () {
  this.timeout(600000);
  let root: string;
  before(async () => {
    root = tmp();
    await jpegFolder(join(root, 'train'), 32);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('refuses an unknown augmentation, and any but the default on the in-memory MNIST digits', () => {
    const out = join(root, 'never');
    for (const [args, message] of [
      [['--aug', 'flip', '--data', join(root, 'train')], /--aug:/],
      [['--aug', 'rrc'], /--aug rrc: the MNIST digits are trained on as they are/],
    ] as const) {
      const r = run({}, ...args, '--output-dir', out);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
    }
  });

  it('every augmentation trains 2 steps on a folder of JPEGs, each on its own images', () => {
    const first = new Map<string, number>();
    for (const aug of ['rrc-flip', 'rrc', 'fixed-crop', 'center-crop', 'rrc-jitter']) {
      const out = join(root, aug);
      const r = run(
        {},
        '--data',
        join(root, 'train'),
        '--aug',
        aug,
        '--model',
        'mae_tiny_32',
        ...SMALL,
        '--steps',
        '2',
        '--batch-size',
        '8',
        '--num-workers',
        '1',
        '--preview',
        '2',
        '--output-dir',
        out,
      );
      assert.equal(r.status, 0, `${aug}: ${r.stdout}${r.stderr}`);
      assert.equal(losses(out).length, 2, aug);
      assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).train.aug, aug);
      first.set(aug, losses(out)[0]!);
    }
    assert.equal(new Set(first.values()).size, first.size, `first losses: ${[...first].join(', ')}`);
  });
});

describe('mae-cuda pretrain --encoder-mask-token', function () {
  this.timeout(900000);
  // --eval none: the end-of-run evaluation encodes 12,000 digits (minutes on the emulated device)
  const common = [...SMALL, '--limit', '256', '--batch-size', '8', '--preview', '0', '--eval', 'none'];

  it('trains on the CPU with encoder_mask_token in the checkpoint, and --resume continues exactly', async () => {
    const [straight, split] = [tmp(), tmp()];
    let r = run({}, '--encoder-mask-token', ...common, '--steps', '4', '--output-dir', straight);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /encoder mask token/);
    const config = JSON.parse(readFileSync(join(straight, 'config.json'), 'utf8'));
    assert.equal(config.train.encoder_mask_token, true);
    const a = await readSafetensors(join(straight, 'checkpoint-last.safetensors'));
    assert.deepEqual(a.tensors.get('encoder_mask_token')?.shape, [1, 1, 16]);
    assert.ok(!a.tensors.has('mask_token'));
    r = run({}, '--encoder-mask-token', ...common, '--steps', '2', '--output-dir', split);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const resume = ['--resume', join(split, 'checkpoint-last.safetensors'), '--output-dir', split];
    r = run({}, '--encoder-mask-token', ...common, '--steps', '4', ...resume);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /resumed from .* at step 2/);
    const b = await readSafetensors(join(split, 'checkpoint-last.safetensors'));
    for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name)?.data, t.data, name);
    // the same checkpoint for the official model: refused, naming the setting
    r = run({}, ...common, '--steps', '6', ...resume);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--resume: .*another model: encoder_mask_token true \(asked: absent\)/);
  });

  it('finetune takes the encoder of such a checkpoint, without the token', async () => {
    const pre = tmp();
    let r = run({}, '--encoder-mask-token', ...common, '--steps', '2', '--output-dir', pre);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = tmp();
    const small = '--train 32 --test 16 --epochs 2 --warmup-epochs 1 --batch-size 16'.split(' ');
    const ckpt = join(pre, 'checkpoint-last.safetensors');
    r = spawnSync(process.execPath, [bin, 'finetune', '--finetune', ckpt, ...small, '--output-dir', out], {
      encoding: 'utf8',
      timeout: 600000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const best = await readSafetensors(join(out, 'checkpoint-best.safetensors'));
    assert.ok(best.tensors.has('cls_token') && !best.tensors.has('encoder_mask_token'));
  });

  it('the emulated CUDA step (captured graph) gives the CPU losses', () => {
    assertEmulatedLikeCpu(['--encoder-mask-token', ...common, '--precision', 'f32', '--steps', '3'], 3);
  });
});
