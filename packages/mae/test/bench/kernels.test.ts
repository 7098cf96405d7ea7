// kernels.test.ts: every native op has a kernel class; grouping totals and shares; a profiled
// CPU step of the tiny preset has the ops a step must have, in the classes they belong to, and
// its op time fits inside the eager step's wall time.
import assert from 'node:assert/strict';
import { ops } from '@mae-cuda/native';
import { groupByClass, KERNEL_CLASSES, kernelClass, profileStep } from '../../src/bench/kernels.js';
import { preset } from '../../src/config/presets.js';

describe('kernelClass', () => {
  it('names a class for every op the native package has', () => {
    const missing = ops.OP_NAMES.filter((n) => kernelClass(n) === undefined);
    assert.deepEqual(missing, [], `ops with no kernel class: ${missing.join(', ')}`);
  });
  it('puts the ops where a reader looks for them', () => {
    assert.equal(kernelClass('linear_gelu_forward'), 'GEMM');
    assert.equal(kernelClass('matmul_tn'), 'GEMM');
    assert.equal(kernelClass('attention_backward'), 'attention');
    assert.equal(kernelClass('layernorm_backward'), 'norms');
    assert.equal(kernelClass('mae_loss_forward'), 'loss');
    assert.equal(kernelClass('adamw_flat_bf16_forward'), 'optimiser');
    assert.equal(kernelClass('gelu_backward'), 'elementwise');
    assert.equal(kernelClass('sum_forward'), 'reductions');
    assert.equal(kernelClass('unshuffle_backward'), 'masking and data movement');
    assert.equal(kernelClass('no_such_op'), undefined);
  });
});

describe('groupByClass', () => {
  it('sums per class, lists every class, slowest first, with shares of the total', () => {
    const g = groupByClass([
      { name: 'matmul_nn', calls: 2, ms: 6 },
      { name: 'linear_forward', calls: 1, ms: 2 },
      { name: 'layernorm_forward', calls: 4, ms: 1 },
      { name: 'mystery', calls: 1, ms: 1 },
    ]);
    assert.equal(g.length, KERNEL_CLASSES.length + 1);
    assert.deepEqual(g[0], { class: 'GEMM', ms: 8, calls: 3, share: 0.8 });
    assert.deepEqual(
      g.filter((c) => c.class === 'norms' || c.class === 'other').map((c) => [c.class, c.ms, c.share]),
      [
        ['norms', 1, 0.1],
        ['other', 1, 0.1],
      ],
    );
    assert.equal(
      groupByClass([]).find((c) => c.class === 'other'),
      undefined,
    );
  });
});

describe('profileStep', () => {
  it('times one CPU step of mae_tiny_28 op by op', async () => {
    const k = await profileStep(
      { name: 'mae_tiny_28', model: preset('mae_tiny_28'), device: 'cpu', batch: 8, steps: 1, warmup: 0 },
      2,
    );
    assert.equal(k.steps, 2);
    const byName = new Map(k.ops.map((o) => [o.name, o]));
    // per step: one loss forward and backward, one flat AdamW, 2 layernorms per block + 2 final
    assert.equal(byName.get('mae_loss_forward')?.calls, 1);
    assert.equal(byName.get('mae_loss_backward')?.calls, 1);
    assert.equal(byName.get('adamw_flat_forward')?.calls, 1);
    const c = preset('mae_tiny_28');
    assert.equal(byName.get('layernorm_forward')?.calls, 2 * (c.depth + c.decoder_depth) + 2);
    assert.equal(byName.get('attention_forward')?.calls, c.depth + c.decoder_depth);
    const sum = k.classes.reduce((s, x) => s + x.ms, 0);
    assert.ok(Math.abs(sum - k.opsMs) < 1e-9 * Math.max(1, sum));
    assert.ok(Math.abs(k.classes.reduce((s, x) => s + x.share, 0) - 1) < 1e-9);
    assert.ok(k.opsMs > 0 && k.opsMs <= k.eagerStepMs, `ops ${k.opsMs} ms, step ${k.eagerStepMs} ms`);
    assert.equal(k.classes[0]!.class === 'other', false);
  });
  it('refuses a non-positive number of steps', async () => {
    await assert.rejects(
      profileStep(
        { name: 'x', model: preset('mae_tiny_28'), device: 'cpu', batch: 2, steps: 1, warmup: 0 },
        0,
      ),
      /profile steps must be >= 1/,
    );
  });
});
