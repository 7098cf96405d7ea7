// Flash attention (attention_forward / attention_backward) beyond the generic suites: the CPU
// template against the reference on the shapes that matter (sequence lengths 1, 7, 50, 65, 197: one
// to four blocks of 64 query rows; head sizes 8, 32, 80 and an odd 13; one to three heads; head size 8
// takes the transposed dK/dV sums), the backward against central differences of
// the forward in f64 and against the composed ops the model used before, and, on a GPU, every
// compiled head size (32, 64, 80, 128) and the SIMT fallback on CUDA.
import assert from 'node:assert/strict';
import { getOp, type Variant } from '@mae-cuda/codegen';
import * as ops from '../../generated/ops.js';
import { binding } from '../../src/binding.js';
import { Tensor } from '../../src/tensor.js';
import { rng, runCase } from './harness.js';

const seed = Number(process.env.MAE_TEST_SEED ?? Date.now() % 100000);
const fwd = getOp('attention_forward');
const bwd = getOp('attention_backward');
const shapes = [
  { N: 2, T: 1, H: 3, E: 32 },
  { N: 1, T: 7, H: 1, E: 80 },
  { N: 2, T: 50, H: 3, E: 13 },
  { N: 1, T: 197, H: 1, E: 32 },
  { N: 1, T: 50, H: 3, E: 80 },
  { N: 1, T: 197, H: 3, E: 13 },
  { N: 2, T: 65, H: 2, E: 8 },
];
const label = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

describe(`flash attention on the CPU backend (seed ${seed})`, () => {
  for (const dt of ['f32', 'bf16', 'f64'] as const)
    for (const op of [fwd, bwd])
      it(`${op.name} ${dt}`, async function () {
        this.timeout(300000);
        const v: Variant = { T: dt };
        // f32 on every shape; the other dtypes on a few
        const cases = dt === 'f32' ? shapes : shapes.filter((_, i) => i % 2 === 0);
        for (const [i, s] of cases.entries()) {
          const r = await runCase(op, v, s, 'cpu', seed + i);
          assert.ok(r.worst <= 1, `${label(s)}: error ${r.worst.toFixed(2)}x tolerance at ${r.where}`);
        }
      });

  type T64 = Tensor<'f64'>;
  const rand = rng(seed);
  const t64 = (shape: number[], amp = 1): T64 =>
    Tensor.fromArray(
      'f64',
      shape,
      Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => amp * (2 * rand() - 1)),
    );

  it('attention_backward = central differences of attention_forward (f64)', () => {
    const [N, T, H, E] = [2, 5, 2, 3];
    const scale = E ** -0.5;
    const qkv = t64([N, T, 3, H, E], 1.5);
    const g = t64([N, T, H, E]);
    const out = Tensor.empty('f64', [N, T, H, E]);
    const lse = Tensor.empty('f64', [N, H, T]);
    const loss = () => {
      ops.attention_forward(out, lse, qkv, scale);
      const [o, w] = [out.toArraySync(), g.toArraySync()];
      return o.reduce((s, x, i) => s + x * w[i]!, 0);
    };
    loss();
    const dqkv = Tensor.empty('f64', [N, T, 3, H, E]);
    ops.attention_backward(dqkv, g, qkv, out, lse, scale);
    const got = dqkv.toArraySync();
    const x = qkv.toArraySync();
    for (let i = 0; i < x.length; i++) {
      const v0 = x[i]!;
      x[i] = v0 + 1e-6;
      qkv.handle.copyFromHost(x);
      const lp = loss();
      x[i] = v0 - 1e-6;
      qkv.handle.copyFromHost(x);
      const lm = loss();
      x[i] = v0;
      qkv.handle.copyFromHost(x);
      const want = (lp - lm) / 2e-6;
      assert.ok(Math.abs(got[i]! - want) <= 1e-7 + 1e-6 * Math.abs(want), `dqkv[${i}]: ${got[i]} vs ${want}`);
    }
  });

  it('equals the composed ops of the unfused model path (f32, forward and backward)', () => {
    const [N, T, H, E] = [3, 50, 4, 16];
    const scale = E ** -0.5;
    const f32 = (shape: number[]) =>
      Tensor.fromArray(
        'f32',
        shape,
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1),
      );
    const qkv = f32([N, T, 3, H, E]);
    const dmerged = f32([N, T, H, E]);
    const e = (shape: number[]) => Tensor.empty('f32', shape);
    const bt = [N * H, T, E];
    const heads = [N, H, T, E];
    const [q, k, v] = [e(bt), e(bt), e(bt)];
    ops.qkv_split_forward(q.view(heads), k.view(heads), v.view(heads), qkv);
    const [scores, probs] = [e([N * H, T, T]), e([N * H, T, T])];
    ops.matmul_nt(scores, q, k, scale);
    ops.softmax_forward(probs.view([N * H * T, T]), scores.view([N * H * T, T]));
    const o = e(bt);
    ops.matmul_nn(o, probs, v, 1);
    const merged = e([N, T, H, E]);
    ops.swap12_forward(merged, o.view(heads));
    const dout = e(bt);
    ops.swap12_forward(dout.view(heads), dmerged);
    const [dprobs, dscores, dq, dk, dv] = [e([N * H, T, T]), e([N * H, T, T]), e(bt), e(bt), e(bt)];
    ops.matmul_nt(dprobs, dout, v, 1);
    ops.matmul_tn(dv, probs, dout, 1);
    ops.softmax_backward(
      dscores.view([N * H * T, T]),
      probs.view([N * H * T, T]),
      dprobs.view([N * H * T, T]),
    );
    ops.matmul_nn(dq, dscores, k, scale);
    ops.matmul_tn(dk, dscores, q, scale);
    const want = e([N, T, 3, H, E]);
    ops.qkv_split_backward(want, dq.view(heads), dk.view(heads), dv.view(heads));

    const [out, lse, dqkv] = [e([N, T, H, E]), e([N, H, T]), e([N, T, 3, H, E])];
    ops.attention_forward(out, lse, qkv, scale);
    ops.attention_backward(dqkv, dmerged, qkv, out, lse, scale);
    const near = (a: Tensor<'f32'>, b: Tensor<'f32'>, what: string) => {
      const [x, y] = [a.toArraySync(), b.toArraySync()];
      for (let i = 0; i < x.length; i++)
        assert.ok(
          Math.abs(x[i]! - y[i]!) <= 1e-5 + 1e-4 * Math.abs(y[i]!),
          `${what}[${i}]: ${x[i]} vs ${y[i]}`,
        );
    };
    near(out, merged, 'out');
    near(dqkv, want, 'dqkv');
  });
});

const build = binding.buildInfo();
const gpus = build.cuda ? binding.cudaDevices().length : 0;

describe(`flash attention on the CUDA backend (seed ${seed})`, () => {
  before(function () {
    if (!build.cuda || gpus === 0) {
      console.log(`    skipped: ${build.cuda ? 'no CUDA device on this machine' : 'this build has no CUDA'}`);
      this.skip();
    }
  });
  for (const dt of ['f32', 'bf16'] as const)
    for (const op of [fwd, bwd])
      it(`${op.name} ${dt}: tensor-core head sizes and the SIMT fallback, tails masked`, async function () {
        this.timeout(300000);
        for (const [i, s] of [
          { N: 2, T: 7, H: 3, E: 32 },
          { N: 1, T: 65, H: 2, E: 64 },
          { N: 2, T: 197, H: 1, E: 80 },
          { N: 1, T: 50, H: 2, E: 128 },
          { N: 3, T: 1, H: 1, E: 64 },
          { N: 2, T: 33, H: 2, E: 13 },
        ].entries()) {
          const r = await runCase(op, { T: dt }, s, 'cuda:0', seed + i);
          assert.ok(r.worst <= 1, `${label(s)}: error ${r.worst.toFixed(2)}x tolerance at ${r.where}`);
        }
      });
});
