// profile.test.ts: OpProfiler on the CPU: the generated op wrappers report each synchronous call
// while (and only while) a profiler runs; collect() totals and resets; async calls and calls
// inside `untimed` are not timed; one profiler at a time.
import assert from 'node:assert/strict';
import * as ops from '../generated/ops.js';
import { activeProfiler, OpProfiler, untimed } from '../src/profile.js';
import { Tensor } from '../src/tensor.js';

const rand = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);

describe('OpProfiler', () => {
  afterEach(() => activeProfiler()?.stop());

  it('counts and times the ops called while it runs, slowest first, and resets on collect()', () => {
    const M = 96;
    const a = Tensor.fromArray('f32', [1, M, M], rand(M * M));
    const b = Tensor.fromArray('f32', [1, M, M], rand(M * M).reverse());
    const c = Tensor.empty('f32', [1, M, M]);
    const y = Tensor.empty('f32', [M * M]);
    ops.matmul_nn(c, a, b, 1); // before start: not counted
    const p = new OpProfiler().start();
    assert.equal(activeProfiler(), p);
    for (let i = 0; i < 3; i++) ops.matmul_nn(c, a, b, 1);
    ops.gelu_forward(y, c.view([M * M], 0));
    p.stop();
    ops.gelu_forward(y, c.view([M * M], 0)); // after stop: not counted
    const t = p.collect();
    assert.deepEqual(t.map((o) => [o.name, o.calls]).sort(), [
      ['gelu_forward', 1],
      ['matmul_nn', 3],
    ]);
    for (const o of t) assert.ok(Number.isFinite(o.ms) && o.ms >= 0, `${o.name}: ${o.ms} ms`);
    assert.ok(t[0]!.ms >= t[1]!.ms, 'slowest first');
    assert.deepEqual(p.collect(), [], 'collect() resets');
    p.dispose();
  });

  it('does not time async calls or calls inside untimed()', async () => {
    const x = Tensor.fromArray('f32', [64], rand(64));
    const y = Tensor.empty('f32', [64]);
    const p = new OpProfiler().start();
    await ops.gelu_forwardAsync(y, x);
    untimed(() => ops.gelu_forward(y, x));
    ops.scale_forward(y, x, 2);
    p.stop();
    assert.deepEqual(
      p.collect().map((o) => o.name),
      ['scale_forward'],
    );
    p.dispose();
  });

  it('refuses a second running profiler and a disposed one', () => {
    const p = new OpProfiler().start();
    assert.throws(() => new OpProfiler().start(), /another profiler is already timing ops/);
    p.dispose();
    assert.equal(activeProfiler(), undefined);
    assert.throws(() => p.start(), /disposed/);
  });
});
