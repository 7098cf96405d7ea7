// The generated TypeScript API: compile-time arity/dtype errors, runtime TypeErrors for shapes
// before any kernel runs, the C ABI's own checks, axis reductions and async variants.
import assert from 'node:assert/strict';
import * as ops from '../../generated/ops.js';
import { binding } from '../../src/binding.js';
import { Tensor } from '../../src/tensor.js';

const f32 = (shape: number[], fill = (i: number) => i * 0.25 - 1) =>
  Tensor.fromArray(
    'f32',
    shape,
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
  );

describe('generated op API', () => {
  it('makes wrong arity and mixed dtypes compile errors', () => {
    const x = f32([4]);
    const y = Tensor.empty('f32', [4]);
    const yb = Tensor.empty('bf16', [4]);
    // @ts-expect-error: missing input
    assert.throws(() => ops.gelu_forward(y));
    // @ts-expect-error: out is bf16 but x is f32
    assert.throws(() => ops.gelu_forward(yb, x), /no kernel for dtypes \(bf16, f32\)/);
    // @ts-expect-error: scale_forward needs alpha
    assert.throws(() => ops.scale_forward(y, x));
    ops.gelu_forward(y, x);
  });

  it('runs declared in-place ops in place, and refuses any other output that overlaps a tensor', () => {
    const x = f32([4]);
    const y = f32([4], () => 1);
    ops.residual_forward(x, x, y); // x += y (declared: OpDef.inPlace)
    assert.deepEqual([...x.toArraySync()], [0, 0.25, 0.5, 0.75]);
    ops.scale_forward(x, x, 2);
    assert.deepEqual([...x.toArraySync()], [0, 0.5, 1, 1.5]);
    assert.throws(
      () => ops.gelu_forward(x, x),
      /gelu_forward: output out overlaps x \(the op does not run in place/,
    );
    const buf = f32([8]);
    assert.throws(
      () => ops.residual_forward(buf.view([4], 0), buf.view([4], 1), y),
      /output out overlaps a \(in place, they must be the very same buffer\)/,
    );
  });

  it('throws a TypeError naming the op, size and shapes for a wrong runtime shape', () => {
    const x = f32([2, 3]);
    const w = f32([4]);
    const b = f32([3]);
    const [y, mean, rstd] = [Tensor.empty('f32', [2, 3]), Tensor.empty('f32', [2]), Tensor.empty('f32', [2])];
    assert.throws(
      () => ops.layernorm_forward(y, mean, rstd, x, w, b, 1e-5),
      (e: Error) =>
        e instanceof TypeError &&
        /layernorm_forward: size N is 3 from out \[2, 3\] but 4 from weight \[4\]/.test(e.message),
    );
    assert.throws(
      () => ops.softmax_forward(y, f32([6])),
      /softmax_forward: x must have rank 2 \[M, N\], got shape \[6\]/,
    );
  });

  it('the C ABI checks too (calling the binding directly, past the TypeScript checks)', () => {
    const x = f32([5]);
    const y = Tensor.empty('f32', [6]);
    assert.throws(
      () => binding.ops.gelu_forward!(y.handle, x.handle),
      /gelu_forward: size N is 6 from out but 5 from x \[5\]/,
    );
    assert.throws(
      () => binding.ops.gelu_forward!(y.handle),
      /gelu_forward: expected gelu_forward\(out, x, stream\?\)/,
    );
    assert.throws(
      () => binding.ops.scale_forward!(y.handle, y.handle, 'a'),
      /scale_forward: alpha must be a number/,
    );
  });

  it('reduces along any axis, negative axes included', async () => {
    const x = f32([2, 3, 4], (i) => Math.sin(i));
    const xs = await x.toFloat64Array();
    const at = (i: number, j: number, k: number) => xs[(i * 3 + j) * 4 + k]!;
    const cases: [number, number[], (o: number[]) => number[]][] = [
      [0, [3, 4], ([j, k]) => [0, 1].map((i) => at(i, j!, k!))],
      [1, [2, 4], ([i, k]) => [0, 1, 2].map((j) => at(i!, j, k!))],
      [-1, [2, 3], ([i, j]) => [0, 1, 2, 3].map((k) => at(i!, j!, k))],
    ];
    for (const [axis, shape, vals] of cases) {
      const [s, m, mx] = [Tensor.empty('f32', shape), Tensor.empty('f32', shape), Tensor.empty('f32', shape)];
      ops.sum_forward(s, x, axis);
      await ops.mean_forwardAsync(m, x, axis);
      ops.max_forward(mx, x, axis);
      const [S, Mn, Mx] = await Promise.all([s.toArray(), m.toArray(), mx.toArray()]);
      for (let a = 0; a < shape[0]!; a++)
        for (let b = 0; b < shape[1]!; b++) {
          const v = vals([a, b]);
          const i = a * shape[1]! + b;
          const sum = v.reduce((p, q) => p + q, 0);
          assert.ok(Math.abs(S[i]! - sum) < 1e-5, `sum axis ${axis}`);
          assert.ok(Math.abs(Mn[i]! - sum / v.length) < 1e-5, `mean axis ${axis}`);
          assert.ok(Math.abs(Mx[i]! - Math.max(...v)) < 1e-6, `max axis ${axis}`);
        }
    }
    assert.throws(
      () => ops.sum_forward(Tensor.empty('f32', [2, 3]), x, 3),
      /axis 3 is out of range for x \[2, 3, 4\]/,
    );
    assert.throws(() => ops.sum_forward(Tensor.empty('f32', [2, 3]), x, 1), /out must have shape \[2, 4\]/);
  });

  it('async variants return Promises that settle with the result', async () => {
    const x = f32([1000]);
    const y = Tensor.empty('f32', [1000]);
    const p = ops.scale_forwardAsync(y, x, 2);
    assert.ok(p instanceof Promise);
    await p;
    const [a, b] = await Promise.all([x.toArray(), y.toArray()]);
    assert.ok(b.every((v, i) => v === 2 * a[i]!));
  });

  it('casts f32 <-> bf16 with round to nearest even', async () => {
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: rounds to even (1); 1 + 3*2^-8 rounds up to 1 + 2^-6
    const x = Tensor.fromArray('f32', [3], Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.5]));
    const b = Tensor.empty('bf16', [3]);
    ops.cast_forward(b, x);
    const back = Tensor.empty('f32', [3]);
    ops.cast_forward(back, b);
    assert.deepEqual(Array.from(await back.toArray()), [1, 1 + 2 ** -6, -2.5]);
  });
});
