// bench.test.ts: `mae-cuda bench` prints its table and JSON with figures that hang together (the
// CPU's MFU against its measured peak), and refuses unknown presets and devices; the row of
// --encoder-mask-token counts the encoder on all tokens.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preset, stepFlops } from '@mae-cuda/mae';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
/** one step of batch 2, no warm-up, no op profile */
const ONE_STEP = ['--batch', '2', '--steps', '1', '--warmup', '0', '--profile-steps', '0'];
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'bench', ...args], { encoding: 'utf8', timeout: 120000 });

describe('mae-cuda bench', function () {
  this.timeout(120000);
  it('times the step and writes JSON', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-bench-')), 'b.json');
    const r = run('--batch', '2,4', '--steps', '3', '--warmup', '1', '--json', json);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^model +batch +device +precision +step ms/m);
    assert.match(r.stdout, /mae_tiny_28 +4 +cpu +f32 /);
    // progress on stderr (not a TTY here: one line per run)
    assert.match(r.stderr, /^bench: run 1\/2: mae-cuda mae_tiny_28 batch 2 \(elapsed 0:00, ETA \?\)$/m);
    assert.match(
      r.stderr,
      /^bench: run 2\/2: mae-cuda mae_tiny_28 batch 4 \(elapsed \d+:\d\d, ETA \d+:\d\d\)$/m,
    );
    // on the CPU the MFU is against the peak measured before the rows
    const peak =
      /^CPU peak (\d+\.\d) GFLOP\/s f32 \(measured: \d+ threads? of (SSE2 multiply-add|AVX2 FMA|AVX-512 FMA), best of 5 windows\): the MFU column's denominator$/m.exec(
        r.stdout,
      );
    assert.ok(peak, r.stdout);
    const rows = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(rows.length, 2);
    for (const x of rows) {
      assert.ok(Math.abs(x.mfu - x.achievedTflops / (Number(peak[1]) / 1000)) < 1e-3 * x.mfu, `${x.mfu}`);
      assert.ok(x.stepMs.min <= x.stepMs.median && x.stepMs.median <= x.stepMs.max);
      assert.ok(Math.abs(x.imagesPerSec - (1000 * x.batch) / x.stepMs.median) < 1e-6);
      assert.ok(Math.abs(x.achievedTflops - (x.imagesPerSec * x.flopsPerImage) / 1e12) < 1e-9);
      assert.ok(x.peakMemoryBytes > 0);
    }
  });
  it('--repeat: the median run and every run; the kernel-class breakdown once per row', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-bench-')), 'b.json');
    const r = run(
      '--batch',
      '4',
      '--steps',
      '2',
      '--warmup',
      '0',
      '--repeat',
      '3',
      '--profile-steps',
      '1',
      '--json',
      json,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(3 runs\)/);
    assert.match(r.stdout, /where the time goes: mae_tiny_28, batch 4, cpu, f32/);
    assert.match(r.stdout, /^GEMM +[\d.]+ +[\d.]+% +\d+$/m);
    const [row] = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(row.runs.length, 3);
    const sorted = [...row.runs].sort((a: number, b: number) => a - b);
    assert.equal(row.imagesPerSec, sorted[1]);
    assert.equal(row.kernels.steps, 1);
    assert.ok(
      row.kernels.classes.some((c: { class: string; ms: number }) => c.class === 'attention' && c.ms > 0),
    );
    const none = run('--batch', '2', '--steps', '1', '--warmup', '0', '--profile-steps', '0');
    assert.equal(none.status, 0, none.stderr);
    assert.doesNotMatch(none.stdout, /where the time goes/);
  });
  it('refuses unknown presets and devices', () => {
    const a = run('--model', 'vit_giant');
    assert.equal(a.status, 2);
    assert.match(a.stderr, /--model: unknown preset vit_giant/);
    const b = run('--device', 'cuda:7');
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--device: cuda:7 is not available here/);
  });
  it('refuses a batch that does not fit in memory up front (it used to be OOM-killed after 80 s)', () => {
    const t0 = performance.now();
    const r = run('--batch', '64,100000', '--steps', '1');
    assert.equal(r.status, 2);
    assert.ok(performance.now() - t0 < 20000, 'refused within seconds');
    assert.equal(r.stdout, '');
    const m =
      /^mae-cuda bench: --batch 100000: mae_tiny_28 \(f32\) needs about ([\d.]+) GiB on cpu, more than the ([\d.]+) GiB (available on this machine|left under the cgroup memory limit); the largest batch that fits is (\d+)$/m.exec(
        r.stderr,
      );
    assert.ok(m, r.stderr);
    assert.ok(Number(m[1]) > Number(m[2]));
    assert.ok(Number(m[4]) > 64 && Number(m[4]) < 100000);
    assert.doesNotMatch(r.stderr, /^bench: run/m, 'nothing ran');
  });
  it('refuses absurd numbers naming the flag (not "Invalid typed array length")', () => {
    const cases: [string[], RegExp][] = [
      [['--batch', '1e12'], /--batch: must be a whole number from 1 to 16777216, got 1e12/],
      [['--steps', '1e400'], /--steps: must be a whole number from 1 to 1000000, got 1e400/],
      [['--steps', '1000000000000'], /--steps: must be a whole number from 1 to 1000000, got 1000000000000/],
      [['--warmup', 'NaN'], /--warmup: must be a number, got 'NaN'/],
      [['--repeat', '-2'], /--repeat: must be a whole number from 1 to 1000, got -2/],
      [['--profile-steps', '0.5'], /--profile-steps: must be a whole number from 0 to 1000, got 0.5/],
      [['--peak-tflops', '-1'], /--peak-tflops: must be a number above 0 and at most 1000000, got -1/],
      [['--steps'], /--steps needs a value/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /Invalid typed array length|received number/);
    }
  });
  it('preset@batch runs that preset at its own batch; a bad one is refused naming it', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-bench-')), 'b.json');
    const r = run(
      '--model',
      'mae_tiny_28@2,mae_tiny_32',
      '--batch',
      '3',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--profile-steps',
      '0',
      '--json',
      json,
    );
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(readFileSync(json, 'utf8'));
    assert.deepEqual(
      rows.map((x: { model: string; batch: number }) => `${x.model}@${x.batch}`),
      ['mae_tiny_28@2', 'mae_tiny_32@3'],
    );
    const bad = run('--model', 'mae_tiny_28@0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--model: mae_tiny_28@0: the batch must be 1 to/);
  });

  it('--graph false and --markdown as switches', () => {
    const r = run(...ONE_STEP, '--graph', 'false', '--markdown');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\| model \| batch \|/m);
  });

  it('--encoder-mask-token: the row of the model with mask tokens in the encoder, its FLOPs counted so', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-bench-')), 'b.json');
    const args = ['--encoder-mask-token', ...ONE_STEP];
    const r = run(...args, '--json', json);
    assert.equal(r.status, 0, r.stderr);
    const [row] = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(row.model, 'mae_tiny_28+encoder-mask-token');
    assert.equal(row.flopsPerImage, stepFlops({ ...preset('mae_tiny_28'), encoder_mask_token: true }).step);
    const refused = run(...args, '--pytorch', 'python3');
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr,
      /--encoder-mask-token: the PyTorch reference \(--pytorch\) runs the official model only/,
    );
  });
});
