// pytorch_reference.test.ts: the PyTorch reference benchmark (bench/pytorch/): its model is the
// official MAE (parity.py on every parity fixture), its presets and FLOP count equal ours, its
// JSON hangs together, bad arguments are refused, and `mae-cuda bench --pytorch` prints the ratio.
// Needs a Python with torch (MAE_PYTHON, /usr/bin/python3 or python3); skipped without one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetNames, presets, stepFlops } from '@mae-cuda/mae';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/mae-cuda.js');
const script = join(root, 'bench/pytorch/mae_step.py');
const parity = join(root, 'bench/pytorch/parity.py');

function findPython(): string | undefined {
  const candidates = [process.env.MAE_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  return candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
}

const fixtures = [
  ...readdirSync(join(root, 'packages/mae/test/fixtures/parity'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(root, 'packages/mae/test/fixtures/parity', d.name)),
  join(root, '../shared/fixtures/mae-parity/rgb32-p8-normpix'),
].filter((d) => existsSync(join(d, 'config.json')));

describe('PyTorch reference (bench/pytorch)', function () {
  this.timeout(180000);
  let python: string | undefined;
  before(function () {
    python = findPython();
    if (!python) {
      console.log('      (no Python with torch: set MAE_PYTHON, or apt-get install python3-torch)');
      this.skip();
    }
  });
  const py = (...args: string[]) => spawnSync(python!, args, { encoding: 'utf8', timeout: 170000 });
  /** `mae-cuda bench` with the PyTorch reference, no op profile */
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'bench', '--profile-steps', '0', '--pytorch', python!, ...args], {
      encoding: 'utf8',
      timeout: 170000,
    });

  it('parity.py: the model equals the official outputs on every parity fixture', () => {
    assert.ok(fixtures.length >= 3, `parity fixtures found: ${fixtures.join(', ')}`);
    for (const dir of fixtures) {
      const r = py(parity, dir);
      assert.equal(r.status, 0, `${dir}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^ok +loss \(relative error\)/m);
      assert.match(r.stdout, /^ok +\d+ gradients/m);
      assert.match(r.stdout, /^all checks passed/m);
      assert.doesNotMatch(r.stdout, /^FAIL/m);
    }
  });

  it('parity.py: a corrupt fixture is refused with exit code 2', () => {
    const r = py(parity, mkdtempSync(join(tmpdir(), 'mae-no-fixture-')));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read the fixture/);
  });

  it('its presets and FLOPs per image equal ours', () => {
    const r = py(script, '--list-presets');
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(theirs).sort(), [...presetNames].sort());
    for (const name of presetNames) {
      const { flops_per_image, ...config } = theirs[name]!;
      const ours = presets[name] as unknown as Record<string, unknown>;
      assert.deepEqual(Object.keys(config).sort(), Object.keys(ours).sort(), `${name} fields`);
      for (const [k, v] of Object.entries(config)) assert.equal(v, ours[k], `${name}.${k}`);
      assert.equal(flops_per_image, stepFlops(presets[name]).step, `${name} FLOPs`);
    }
  });

  it('times a step and writes JSON that hangs together', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-torch-')), 'r.json');
    const r = py(
      script,
      '--model',
      'mae_tiny_28',
      '--batch',
      '8',
      '--steps',
      '3',
      '--warmup',
      '1',
      '--threads',
      '2',
      '--json',
      json,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /mae_tiny_28 batch 8 .* ms\/step median/);
    const x = JSON.parse(readFileSync(json, 'utf8'));
    for (const k of [
      'framework',
      'torch_version',
      'device',
      'device_name',
      'model',
      'batch',
      'precision',
      'compile',
      'threads',
      'steps',
      'warmup',
      'step_ms',
      'images_per_s',
      'flops_per_image',
      'achieved_tflops',
      'peak_memory_bytes',
      'peak_memory_kind',
      'blas',
    ])
      assert.ok(k in x, `missing ${k}`);
    assert.equal(x.framework, 'pytorch');
    assert.equal(typeof x.torch_version, 'string');
    assert.ok(x.blas === null || typeof x.blas === 'string');
    assert.deepEqual(
      [x.device, x.model, x.batch, x.precision, x.compile],
      ['cpu', 'mae_tiny_28', 8, 'fp32', false],
    );
    assert.deepEqual([x.steps, x.warmup], [3, 1]);
    assert.equal(x.threads, 2);
    const s = x.step_ms;
    assert.ok(s.min <= s.p25 && s.p25 <= s.median && s.median <= s.p75 && s.p75 <= s.max);
    assert.ok(Math.abs(x.images_per_s - (1000 * 8) / s.median) < 1e-9 * x.images_per_s);
    assert.equal(x.flops_per_image, stepFlops(presets.mae_tiny_28).step);
    assert.ok(Math.abs(x.achieved_tflops - (x.images_per_s * x.flops_per_image) / 1e12) < 1e-12);
    assert.ok(x.peak_memory_bytes > 0 && x.peak_memory_kind === 'process_max_rss');
    assert.ok(Number.isFinite(x.last_loss) && x.last_loss > 0);
  });

  it('refuses a bad preset, batch or device with exit code 2 and a message naming it', () => {
    const a = py(script, '--model', 'vit_giant');
    assert.equal(a.status, 2);
    assert.match(a.stderr, /unknown preset vit_giant/);
    const b = py(script, '--batch', '0');
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--batch and --steps must be >= 1/);
    const c = py(script, '--device', 'tpu');
    assert.equal(c.status, 2);
    assert.match(c.stderr, /--device must be cpu, cuda or cuda:N, got tpu/);
    const d = py(script, '--precision', 'fp16');
    assert.equal(d.status, 2);
    assert.match(d.stderr, /^mae_step\.py: argument --precision: invalid choice: 'fp16'.*\n$/);
    const cuda = py('-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)');
    if (cuda.status !== 0) {
      const e = py(script, '--device', 'cuda', '--steps', '1', '--warmup', '0');
      assert.equal(e.status, 2);
      assert.match(e.stderr, /--device cuda: this PyTorch \(.*\) sees no CUDA device/);
    }
  });

  it('mae-cuda bench --pytorch runs both and prints the ratio', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mae-bench-')), 'b.json');
    const r = bench('--batch', '8', '--steps', '3', '--warmup', '1', '--repeat', '2', '--json', json);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ratio \(ours \/ PyTorch\)/);
    assert.match(
      r.stdout,
      /mae_tiny_28 +8 +cpu +\S+ eager +[\d.]+ \([\d.]+-[\d.]+\) +[\d.]+ \([\d.]+-[\d.]+\) +[\d.]+x +[\d.]+-[\d.]+x/,
    );
    const [row] = JSON.parse(readFileSync(json, 'utf8'));
    const [t] = row.pytorch;
    assert.equal(t.mode, 'eager');
    assert.equal(t.runs.length, 2);
    assert.ok(Math.abs(t.ratio - row.imagesPerSec / t.median.images_per_s) < 1e-9 * t.ratio);
    assert.ok(t.ratioRange[0] <= t.ratioRange[1]);
  });

  it('mae-cuda bench --pytorch names a failing reference run', () => {
    const r = bench('--batch', '2', '--steps', '1', '--warmup', '0', '--pytorch-compile', 'true');
    const hasCompile =
      py('-c', 'import torch, sys; sys.exit(0 if hasattr(torch, "compile") else 1)').status === 0;
    if (hasCompile) assert.equal(r.status, 0, r.stderr);
    else {
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /the PyTorch reference failed: .*--compile: it exited with code 2; the last lines of its stderr:/,
      );
      assert.match(r.stderr, /torch.compile needs PyTorch 2.0 or later/);
    }
  });
});
