// emulator.test.ts: the CLI on the emulated CUDA device (MAE_CUDA_EMULATOR=1, docs/EMULATOR.md): info
// names it; the captured training step (CUDA graph on and off, bf16 and f32 plans) matches the CPU's
// loss curve, on a preset with 64-wide heads too (flash attention on tensor cores, both GEMM tiles); pretrain --device cuda writes a checkpoint that --resume continues exactly (the resumed
// run ends with the same parameters as an uninterrupted one); 2 emulated ranks over the stand-in NCCL
// train to the weights of one rank with the doubled batch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '@mae-cuda/mae';
import { assertSameWeights, bin, SMALL, tmp } from './pretrain_helpers.js';

const emuAddon = new URL('../../native/build/Release/mae_native_emu.node', import.meta.url).pathname;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 600000,
    env: { ...process.env, MAE_CUDA_EMULATOR: '1' },
  });

describe('mae-cuda on the emulated CUDA device', function () {
  this.timeout(900000);
  let root: string;
  before(() => {
    if (!existsSync(emuAddon))
      throw new Error(`${emuAddon} is missing: pnpm build builds it (CMake MAE_CUDA_EMULATOR)`);
    root = tmp();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('info lists cuda:0 as an emulated H100', () => {
    const r = run('info');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CUDA: emulated \(MAE_CUDA_EMULATOR=1/m);
    assert.match(r.stdout, /^ {2}cuda:0 +NVIDIA H100 80GB HBM3 \(emulated\), compute 9\.0/m);
  });

  for (const [precision, graph] of [
    ['bf16', 'true'],
    ['f32', 'false'],
  ] as const) {
    it(`check-step --device cuda (${precision}, graph ${graph}) matches the CPU's loss curve`, () => {
      const r = run(
        'check-step',
        '--device',
        'cuda',
        '--compare',
        'cpu',
        '--steps',
        '3',
        '--precision',
        precision,
        '--graph',
        graph,
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const tol = precision === 'f32' ? 1e-5 : 2e-2;
      const m = r.stdout.match(/max relative difference ([0-9.e+-]+)/);
      assert.ok(m && Number(m[1]) <= tol, r.stdout);
    });
  }

  it('check-step on mae_tiny_32_h64 reaches flash attention at head size 64, both tensor-core GEMM tiles and split-K', () => {
    const traceFile = join(root, 'trace.txt');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'check-step',
        '--model',
        'mae_tiny_32_h64',
        '--device',
        'cuda',
        '--compare',
        'cpu',
        '--steps',
        '2',
        '--batch',
        '4',
      ],
      {
        encoding: 'utf8',
        timeout: 600000,
        // one SM: the 128x128 tile is chosen as soon as a GEMM has two tiles of work; the mma.sync
        // GEMMs (the emulated sm_90 device takes the wgmma ones otherwise: kernel_report.test.ts)
        env: {
          ...process.env,
          MAE_CUDA_EMULATOR: '1',
          MAE_EMU_SM_COUNT: '1',
          MAE_EMU_TRACE: traceFile,
          MAE_CUDA_GEMM: 'mma',
        },
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const trace = readFileSync(traceFile, 'utf8');
    // the step's operands are plain aligned tensors: the asynchronous GEMMs, split-K for one sample
    for (const k of [
      /_mma64x64_async /,
      /_mma128x128_async /,
      /_mma128x128_split /,
      /_mma128x128_split_reduce /,
      /^attention_forward_cuda_bf16_e64 /m,
      /^attention_backward_cuda_bf16_dq_e64 /m,
      /^attention_backward_cuda_bf16_dkdv_e64 /m,
    ])
      assert.match(trace, k);
  });

  it('2 emulated CUDA ranks (the stand-in NCCL) train to the weights of 1 rank with the doubled batch', async () => {
    const common = [
      'pretrain',
      '--device',
      'cuda',
      ...SMALL,
      '--precision',
      'f32',
      '--steps',
      '3',
      '--preview',
      '0',
      '--eval',
      'none',
    ];
    const [one, two] = [join(root, 'one'), join(root, 'two')];
    let r = run(...common, '--batch-size', '16', '--output-dir', one);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const port = String(20000 + Math.floor(Math.random() * 20000));
    r = spawnSync(
      process.execPath,
      [bin, ...common, '--gpus', '2', '--master-port', port, '--batch-size', '8', '--output-dir', two],
      {
        encoding: 'utf8',
        timeout: 600000,
        env: { ...process.env, MAE_CUDA_EMULATOR: '1', MAE_EMU_DEVICES: '2' },
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /batch 8 x 1 x 2 ranks/);
    const y = await assertSameWeights(one, two);
    assert.equal(y.step, 3);
  });

  it('pretrain --device cuda writes a checkpoint that --resume continues exactly', async () => {
    const common = [
      'pretrain',
      '--device',
      'cuda',
      ...SMALL,
      '--batch-size',
      '8',
      '--preview',
      '0',
      '--eval',
      'none',
    ];
    const straight = join(root, 'straight');
    const split = join(root, 'split');
    let r = run(...common, '--steps', '4', '--output-dir', straight);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    r = run(...common, '--steps', '2', '--output-dir', split);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    r = run(
      ...common,
      '--steps',
      '4',
      '--resume',
      join(split, 'checkpoint-last.safetensors'),
      '--output-dir',
      split,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /resumed from .* at step 2/);
    const a = await readSafetensors(join(straight, 'checkpoint-last.safetensors'));
    const b = await readSafetensors(join(split, 'checkpoint-last.safetensors'));
    assert.deepEqual([...b.tensors.keys()].sort(), [...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors) {
      const u = b.tensors.get(name)!;
      assert.ok(
        Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(
          Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        ),
        name,
      );
    }
  });
});
