// grads.test.ts: gradient accumulation sums micro-batch gradients into params.grads, the global
// norm matches a host computation, and clipping caps it (and leaves small gradients alone), as a
// transcription of torch.nn.utils.clip_grad_norm_ (f32 tensors, norm_type 2) computes it.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import type { ModelState } from '../../src/init/state.js';
import { ParamStore } from '../../src/model/params.js';
import { clipGradNorm, GradAccumulator, gradNorm } from '../../src/train/grads.js';

function store(): ParamStore {
  const state: ModelState = new Map([
    ['a', { shape: [2, 3], data: new Float32Array(6) }],
    ['b', { shape: [4], data: new Float32Array(4) }],
  ]);
  return new ParamStore(state);
}
const setGrad = (p: ParamStore, name: string, values: number[]) =>
  p.grad(name).copyFrom(Tensor.fromArray('f32', p.grad(name).shape, Float32Array.from(values)));

describe('GradAccumulator', () => {
  it('leaves the sum of the window in params.grads after the last micro-batch', async () => {
    const p = store();
    const acc = new GradAccumulator(p, ['a', 'b'], 3);
    const micro = [
      [1, 2, 3, 4, 5, 6],
      [10, 20, 30, 40, 50, 60],
      [100, 200, 300, 400, 500, 600],
    ];
    for (let k = 0; k < 3; k++) {
      setGrad(p, 'a', micro[k]!); // backward overwrites the gradients
      setGrad(p, 'b', [k, k, k, k]);
      acc.add(k);
    }
    assert.deepEqual([...(await p.grad('a').toArray())], [111, 222, 333, 444, 555, 666]);
    assert.deepEqual([...(await p.grad('b').toArray())], [3, 3, 3, 3]);
    // a second window starts again from zero
    for (let k = 0; k < 3; k++) {
      setGrad(p, 'a', [1, 1, 1, 1, 1, 1]);
      acc.add(k);
    }
    assert.deepEqual([...(await p.grad('a').toArray())], [3, 3, 3, 3, 3, 3]);
  });

  it('is a no-op for accum_iter 1 and refuses micro-batch indices outside the window', async () => {
    const p = store();
    setGrad(p, 'a', [1, 2, 3, 4, 5, 6]);
    new GradAccumulator(p, ['a'], 1).add(0);
    assert.deepEqual([...(await p.grad('a').toArray())], [1, 2, 3, 4, 5, 6]);
    assert.throws(() => new GradAccumulator(p, ['a'], 2).add(2), /outside 0\.\.1/);
    assert.throws(() => new GradAccumulator(p, ['a'], 0), /accum_iter/);
  });
});

describe('clipGradNorm', () => {
  it('computes the global norm and scales the gradients down to max_norm', async () => {
    const p = store();
    setGrad(p, 'a', [3, 0, 0, 0, 0, 0]);
    setGrad(p, 'b', [0, 4, 0, 0]);
    assert.ok(Math.abs((await gradNorm(p, ['a', 'b'])) - 5) < 1e-6);
    const before = await clipGradNorm(p, ['a', 'b'], 1);
    assert.ok(Math.abs(before - 5) < 1e-6);
    const after = await gradNorm(p, ['a', 'b']);
    assert.ok(Math.abs(after - 1) < 1e-5, `norm after clipping is ${after}`);
    const a = await p.grad('a').toArray();
    assert.ok(Math.abs(a[0]! - 0.6) < 1e-5);
  });

  it('leaves gradients under the limit unchanged', async () => {
    const p = store();
    setGrad(p, 'a', [0.1, 0.2, 0, 0, 0, 0]);
    await clipGradNorm(p, ['a', 'b'], 10);
    assert.deepEqual([...(await p.grad('a').toArray())], [...Float32Array.from([0.1, 0.2, 0, 0, 0, 0])]);
  });
});

/**
 * torch.nn.utils.clip_grad_norm_(parameters, max_norm) on f32 gradients, written out: the norm of
 * each gradient (f32), the norm of those norms (f32), clip_coef = max_norm / (total_norm + 1e-6),
 * clamped to 1, every gradient multiplied by it in f32; returns total_norm.
 */
function torchClipGradNorm(grads: Float32Array[], maxNorm: number): number {
  const f = Math.fround;
  const norm = (xs: ArrayLike<number>) => f(Math.sqrt(Array.from(xs).reduce((s, v) => s + v * v, 0)));
  const total = norm(grads.map(norm));
  const coef = Math.min(f(maxNorm / f(total + 1e-6)), 1);
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = f(g[i]! * coef);
  return total;
}

describe('clipGradNorm against torch clip_grad_norm_', () => {
  const a = Float32Array.from([0.31, -2.7, 1.5, 0.002, -0.9, 4.1]);
  const b = Float32Array.from([-1.25, 3.3, 0.07, -0.6]);
  for (const maxNorm of [0.5, 1, 100])
    it(`max_norm ${maxNorm}`, async () => {
      const p = store();
      setGrad(p, 'a', [...a]);
      setGrad(p, 'b', [...b]);
      const want = [Float32Array.from(a), Float32Array.from(b)];
      const total = torchClipGradNorm(want, maxNorm);
      const got = await clipGradNorm(p, ['a', 'b'], maxNorm);
      assert.ok(Math.abs(got - total) <= 1e-6 * total, `norm ${got} vs torch ${total}`);
      const have = [await p.grad('a').toFloat32Array(), await p.grad('b').toFloat32Array()];
      for (const [k, g] of have.entries())
        for (let i = 0; i < g.length; i++)
          assert.ok(
            Math.abs(g[i]! - want[k]![i]!) <= 1e-6 * Math.abs(want[k]![i]!),
            `grad ${k}[${i}] ${g[i]} vs ${want[k]![i]}`,
          );
      if (maxNorm > total) assert.deepEqual(have, [a, b], 'under the limit: untouched');
    });
});
