// adamw.test.ts: the flat AdamW ops beyond the generic suite (which checks them against the
// reference on random inputs): one flat launch equals the per-parameter adamw_forward launches
// bit for bit, weight decay reaches exactly the first decay_rows rows, the bf16 copy is the f32
// result rounded, in-place calls work, and adamw_hyper_forward walks the table (clamped at its
// ends), also in place. On the CPU, and on CUDA too when a GPU is present.
import assert from 'node:assert/strict';
import * as ops from '../../generated/ops.js';
import { binding } from '../../src/binding.js';
import type { DeviceSpec } from '../../src/device.js';
import { f32ArrayToBf16 } from '../../src/dtype.js';
import { Tensor } from '../../src/tensor.js';
import { rng } from './harness.js';

const seed = Number(process.env.MAE_TEST_SEED ?? Date.now() % 100000);
const build = binding.buildInfo();
const devices: DeviceSpec[] = ['cpu'];
if (build.cuda && binding.cudaDevices().length > 0) devices.push('cuda:0');

const [B1, B2, EPS, WD] = [0.9, 0.95, 1e-8, 0.05];

function randomArray(n: number, lo: number, hi: number, r: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

for (const device of devices)
  describe(`flat AdamW ops on ${device} (seed ${seed})`, () => {
    const f32 = (shape: number[], data: Float32Array) => Tensor.fromArray('f32', shape, data, device);

    it('one flat launch equals the per-parameter launches of adamw_forward, bit for bit', async () => {
      const r = rng(seed);
      const [R, C, decayRows] = [5, 37, 2];
      const n = R * C;
      const host = [
        randomArray(n, -1, 1, r),
        randomArray(n, -0.1, 0.1, r),
        randomArray(n, -0.05, 0.05, r),
        randomArray(n, 0, 1e-3, r),
      ];
      // f32 values, passed to the old op as the same doubles the new op reads from hyper
      const hyper = Float32Array.of(1.5e-3, 1 - B1 ** 3, 1 - B2 ** 3);
      const flat = host.map((h) => f32([R, C], h));
      const [p, g, m, v] = flat as [Tensor<'f32'>, Tensor<'f32'>, Tensor<'f32'>, Tensor<'f32'>];
      ops.adamw_flat_forward(p, m, v, p, g, m, v, f32([3], hyper), B1, B2, EPS, WD, decayRows);
      // parameters of odd sizes; one ends exactly at the decay boundary (decayRows * C)
      const cuts = [0, 13, 50, decayRows * C, decayRows * C + 1, 120, n];
      const per = host.map((h) => f32([n], h));
      const [p1, g1, m1, v1] = per as [Tensor<'f32'>, Tensor<'f32'>, Tensor<'f32'>, Tensor<'f32'>];
      for (let k = 0; k + 1 < cuts.length; k++) {
        const [a, b] = [cuts[k]!, cuts[k + 1]!];
        const at = (t: Tensor<'f32'>) => t.view([b - a], a);
        const wd = b <= decayRows * C ? WD : 0;
        const [pp, gg, mm, vv] = [p1, g1, m1, v1].map(at) as [
          Tensor<'f32'>,
          Tensor<'f32'>,
          Tensor<'f32'>,
          Tensor<'f32'>,
        ];
        ops.adamw_forward(pp, mm, vv, pp, gg, mm, vv, hyper[0]!, B1, B2, EPS, wd, hyper[1]!, hyper[2]!);
      }
      for (const [i, name] of ['p', 'g', 'm', 'v'].entries())
        assert.deepEqual(await flat[i]!.toArray(), await per[i]!.toArray(), `${name} differs`);
    });

    it('applies weight decay to exactly the first decay_rows rows', async () => {
      const [R, C] = [7, 33];
      for (const decayRows of [0, 1, 3, R, R + 2]) {
        const pHost = randomArray(R * C, 0.5, 1.5, rng(seed + decayRows));
        // zero gradient and moments: the Adam step is 0, only the decay moves p
        const zero = () => Tensor.zeros('f32', [R, C], device);
        const [p, g, m, v] = [f32([R, C], pHost), zero(), zero(), zero()];
        const lr = 0.25;
        ops.adamw_flat_forward(
          p,
          m,
          v,
          p,
          g,
          m,
          v,
          f32([3], Float32Array.of(lr, 0.1, 0.2)),
          B1,
          B2,
          EPS,
          WD,
          decayRows,
        );
        const got = await p.toArray();
        const factor = Math.fround(1 - Math.fround(lr * Math.fround(WD)));
        for (let i = 0; i < R * C; i++) {
          const want = Math.floor(i / C) < decayRows ? Math.fround(pHost[i]! * factor) : pHost[i]!;
          assert.equal(got[i], want, `decay_rows ${decayRows}: element ${i} (row ${Math.floor(i / C)})`);
        }
      }
    });

    it('writes the bf16 copy of the updated parameters, and agrees with the f32-only op', async () => {
      const r = rng(seed + 1);
      const [R, C] = [3, 129];
      const host = [
        randomArray(R * C, -2, 2, r),
        randomArray(R * C, -1, 1, r),
        randomArray(R * C, -1, 1, r),
        randomArray(R * C, 0, 1, r),
      ];
      const hyper = f32([3], Float32Array.of(0.01, 0.19, 0.0975));
      const a = host.map((h) => f32([R, C], h)) as Tensor<'f32'>[];
      const b = host.map((h) => f32([R, C], h)) as Tensor<'f32'>[];
      const bf = Tensor.empty('bf16', [R, C], device).poison();
      ops.adamw_flat_bf16_forward(
        a[0]!,
        a[2]!,
        a[3]!,
        bf,
        a[0]!,
        a[1]!,
        a[2]!,
        a[3]!,
        hyper,
        B1,
        B2,
        EPS,
        WD,
        1,
      );
      ops.adamw_flat_forward(b[0]!, b[2]!, b[3]!, b[0]!, b[1]!, b[2]!, b[3]!, hyper, B1, B2, EPS, WD, 1);
      for (const i of [0, 2, 3]) assert.deepEqual(await a[i]!.toArray(), await b[i]!.toArray());
      assert.deepEqual(await bf.toArray(), f32ArrayToBf16(await a[0]!.toArray()));
    });

    it('adamw_hyper_forward reads table[step] and counts, in place, clamped into the table', async () => {
      const S = 5;
      const table = f32(
        [S, 3],
        Float32Array.from({ length: 3 * S }, (_, i) => i + 0.5),
      );
      const hyper = Tensor.empty('f32', [3], device).poison();
      const step = Tensor.fromArray('i32', [1], [0], device);
      for (let s = 0; s < S + 2; s++) {
        ops.adamw_hyper_forward(hyper, step, table, step);
        const row = Math.min(s, S - 1);
        assert.deepEqual(
          [...(await hyper.toArray())],
          [3 * row + 0.5, 3 * row + 1.5, 3 * row + 2.5],
          `call ${s}`,
        );
        assert.deepEqual([...(await step.toArray())], [s + 1]);
      }
      step.copyFrom(Tensor.fromArray('i32', [1], [-4], device));
      ops.adamw_hyper_forward(hyper, step, table, step);
      assert.deepEqual([...(await hyper.toArray())], [0.5, 1.5, 2.5], 'a negative row reads row 0');
      assert.deepEqual([...(await step.toArray())], [-3]);
    });

    it('refuses mismatched shapes and a hyper tensor of the wrong length', () => {
      const t = Tensor.zeros('f32', [2, 4], device);
      const u = Tensor.zeros('f32', [2, 5], device);
      assert.throws(
        () =>
          ops.adamw_flat_forward(t, t, t, t, u, t, t, Tensor.zeros('f32', [3], device), B1, B2, EPS, WD, 1),
        /adamw_flat_forward/,
      );
      assert.throws(
        () =>
          ops.adamw_flat_forward(t, t, t, t, t, t, t, Tensor.zeros('f32', [2], device), B1, B2, EPS, WD, 1),
        /hyper/,
      );
    });
  });
