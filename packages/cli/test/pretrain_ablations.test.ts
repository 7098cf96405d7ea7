// pretrain_ablations.test.ts: the ablation flags of `mae-cuda pretrain` in a child process:
// --mask-sampling refusals name the flag; block and grid sampling train end to end on the CPU, with
// their masks in reconstructions.png's preview; on the emulated CUDA device (captured step, scores
// uploaded before each replay) the losses are the CPU's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, SMALL, tmp } from './pretrain_helpers.js';

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
    if (!existsSync(emuAddon)) throw new Error(`${emuAddon} is missing: pnpm build builds it`);
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
    ];
    const [cpu, cuda] = [tmp(), tmp()];
    let r = run({}, ...common, '--output-dir', cpu);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    r = run({ MAE_CUDA_EMULATOR: '1' }, ...common, '--device', 'cuda', '--output-dir', cuda);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [a, b] = [losses(cpu), losses(cuda)];
    assert.equal(b.length, 3);
    a.forEach((l, i) =>
      assert.ok(Math.abs(l - b[i]!) <= 1e-4 * Math.abs(l), `step ${i + 1}: ${l} vs ${b[i]}`),
    );
  });
});
