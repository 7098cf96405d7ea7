// lr.test.ts: the per-iteration warmup + half-cycle cosine schedule and the base-lr scaling, on
// values worked out by hand (and, for the cosine phase, printed by python's adjust_learning_rate).
import assert from 'node:assert/strict';
import {
  effectiveBatch,
  effectiveLr,
  fractionalEpoch,
  LrScheduleSchema,
  lrAt,
  lrForIteration,
  resolveLr,
} from '../../src/schedule/lr.js';

const close = (got: number, want: number, rel = 1e-14) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want) + 1e-300, `${got} != ${want}`);

describe('lr schedule', () => {
  const s = LrScheduleSchema.parse({ lr: 1e-3, min_lr: 1e-5, warmup_epochs: 40, epochs: 400 });

  it('warms up linearly from 0', () => {
    assert.equal(lrAt(s, 0), 0);
    assert.equal(lrAt(s, 20), 5e-4);
    assert.equal(lrAt(s, 3.07), 7.675e-5); // python: 0.001 * 3.07 / 40
    // python evaluates lr * e / warmup left to right: 7.524999999999999e-05, not 7.525e-05
    assert.equal(lrAt(s, fractionalEpoch(1, 100, 3)), 7.524999999999999e-5);
  });

  it('follows the half cosine from lr to min_lr', () => {
    assert.equal(lrAt(s, 40), 1e-3); // cos 0
    close(lrAt(s, 220), 1e-5 + (1e-3 - 1e-5) / 2); // cos(pi / 2): halfway, 0.000505
    assert.equal(lrAt(s, 400), 1e-5); // cos pi
    close(lrAt(s, 100.25), 0.0009331415938757982);
    close(lrAt(s, 399.99), 1.0000001884820261e-5);
  });

  it('uses the fractional epoch it / iters_per_epoch + epoch', () => {
    assert.equal(fractionalEpoch(7, 100, 3), 3.07);
    assert.equal(lrForIteration(s, 3, 7, 100), 7.675e-5);
    // accum_iter 4: iterations 4..7 keep the lr set at iteration 4
    assert.equal(lrForIteration(s, 10, 6, 8, 4), lrAt(s, 10.5));
    assert.equal(lrForIteration(s, 10, 3, 8, 4), lrAt(s, 10));
  });

  it('min_lr defaults to 0 and the schedule is validated', () => {
    const t = LrScheduleSchema.parse({ lr: 2e-3, warmup_epochs: 0, epochs: 10 });
    assert.equal(t.min_lr, 0);
    assert.equal(lrAt(t, 0), 2e-3);
    assert.equal(lrAt(t, 10), 0);
    assert.throws(
      () => LrScheduleSchema.parse({ lr: 1, warmup_epochs: 10, epochs: 10 }),
      /greater than warmup_epochs/,
    );
  });
});

describe('effective lr', () => {
  it('scales the base lr by effective batch / 256', () => {
    assert.equal(effectiveBatch(64, 8, 8), 4096);
    assert.equal(effectiveLr(1.5e-4, 4096), 0.0024); // the paper's recipe
    assert.equal(effectiveLr(1e-3, 256), 1e-3);
    assert.equal(resolveLr(undefined, 1.5e-4, 4096), 0.0024);
    assert.equal(resolveLr(5e-4, 1.5e-4, 4096), 5e-4);
  });
});
