// adamw.test.ts: AdamW over the flat store. One multi-tensor update is torch.optim.AdamW's math in
// f64 within f32 rounding (decayed and undecayed groups, frozen and padding untouched) and equals
// the per-parameter adamw_forward launches bit for bit; the device schedule reproduces the host lr
// schedule step by step and the eager path exactly, also across a resume; running past the
// schedule is refused clearly; the bf16 copy follows the parameters; an f64 store works.
import assert from 'node:assert/strict';
import { ops, Tensor } from '@mae-cuda/native';
import { FLAT_ROW } from '../../src/model/flat_layout.js';
import { ParamStore } from '../../src/model/params.js';
import { AdamW, adamwHyper, DEFAULT_ADAMW } from '../../src/optim/adamw.js';
import { lrForIteration } from '../../src/schedule/lr.js';
import { mixedState } from '../model/mixed_state.js';

const [B1, B2] = DEFAULT_ADAMW.betas;

/** Deterministic gradients for step k (nonzero in frozen parameters too: they must be ignored). */
function setGrads(p: ParamStore, k: number): void {
  const g = Float32Array.from(
    { length: p.layout.total },
    (_, i) => Math.sin(i * 0.37 + k) * 0.05 * (1 + (i % 3)),
  );
  for (const seg of [p.layout.decay, p.layout.noDecay])
    g.fill(0, seg.end, seg === p.layout.decay ? p.layout.noDecay.start : p.layout.frozen.start);
  p.flatGrads.copyFrom(Tensor.fromArray('f32', [p.layout.total], g));
}

describe('AdamW over the flat store', () => {
  it('one update is torch.optim.AdamW in f64 within f32 rounding, per group', async () => {
    const p = new ParamStore(mixedState());
    const opt = new AdamW(p);
    const lrs = [1e-3, 3e-3, 2e-3];
    for (const [k, lr] of lrs.entries()) {
      setGrads(p, k);
      const [p0, g, m0, v0] = await Promise.all(
        [p.flatValues, p.flatGrads, opt.flatM, opt.flatV].map((t) => t.toArray()),
      );
      opt.update(lr);
      const [p1, m1, v1] = await Promise.all([p.flatValues, opt.flatM, opt.flatV].map((t) => t.toArray()));
      // the values the device read: lr and bias corrections rounded to f32 once
      const [l, bc1, bc2] = Float32Array.from(adamwHyper(lr, k + 1, [B1, B2]));
      for (let i = 0; i < p.layout.frozen.start; i++) {
        const wd = i < p.layout.noDecay.start ? DEFAULT_ADAMW.weightDecay : 0;
        // the kernel takes the betas as f32 params
        const [b1, b2] = [Math.fround(B1), Math.fround(B2)];
        const m = m0![i]! + (g![i]! - m0![i]!) * (1 - b1);
        const v = v0![i]! * b2 + g![i]! * g![i]! * (1 - b2);
        const mScale = Math.abs(m0![i]!) + Math.abs(g![i]! - m0![i]!) * (1 - b1);
        const vScale = Math.abs(v0![i]! * b2) + g![i]! * g![i]! * (1 - b2);
        const step = (l! / bc1!) * (m / (Math.sqrt(v) / Math.sqrt(bc2!) + DEFAULT_ADAMW.eps));
        const want = p0![i]! * (1 - l! * wd) - step;
        const tol = 5e-7 * (Math.abs(p0![i]!) + Math.abs(step)) + 1e-30;
        assert.ok(Math.abs(p1![i]! - want) <= tol, `step ${k} element ${i}: ${p1![i]} vs ${want}`);
        assert.ok(Math.abs(m1![i]! - m) <= 3e-7 * mScale + 1e-30, `m[${i}]: ${m1![i]} vs ${m}`);
        assert.ok(Math.abs(v1![i]! - v) <= 3e-7 * vScale + 1e-30, `v[${i}]: ${v1![i]} vs ${v}`);
      }
      // frozen parameters and the padding do not move
      for (let i = p.layout.frozen.start; i < p.layout.total; i++) assert.equal(p1![i], p0![i]);
      for (let i = p.layout.decay.end; i < p.layout.noDecay.start; i++) assert.equal(p1![i], 0);
    }
    assert.equal(opt.step, 3);
  });

  it('equals the per-parameter adamw_forward updates bit for bit', async () => {
    const state = mixedState(9);
    const p = new ParamStore(state);
    const opt = new AdamW(p);
    const ref = new ParamStore(state);
    const m = new Map(opt.trainable.map((n) => [n, Tensor.zeros('f32', [ref.get(n).numel])]));
    const v = new Map(opt.trainable.map((n) => [n, Tensor.zeros('f32', [ref.get(n).numel])]));
    const decay = new Set(p.layout.decay.names);
    for (let k = 0; k < 3; k++) {
      setGrads(p, k);
      setGrads(ref, k);
      const lr = 1e-3 * (k + 1);
      opt.update(lr);
      const [l, bc1, bc2] = Float32Array.from(adamwHyper(lr, k + 1, [B1, B2]));
      for (const n of opt.trainable) {
        const [pp, gg] = [ref.get(n), ref.grad(n)].map((t) => t.view([t.numel]));
        const wd = decay.has(n) ? DEFAULT_ADAMW.weightDecay : 0;
        ops.adamw_forward(
          pp!,
          m.get(n)!,
          v.get(n)!,
          pp!,
          gg!,
          m.get(n)!,
          v.get(n)!,
          l!,
          B1,
          B2,
          DEFAULT_ADAMW.eps,
          wd,
          bc1!,
          bc2!,
        );
      }
    }
    for (const n of opt.trainable) {
      assert.deepEqual(await p.get(n).toArray(), await ref.get(n).toArray(), n);
      assert.deepEqual(
        await opt.m
          .get(n)!
          .view([m.get(n)!.numel])
          .toArray(),
        await m.get(n)!.toArray(),
        `exp_avg.${n}`,
      );
      assert.deepEqual(
        await opt.v
          .get(n)!
          .view([v.get(n)!.numel])
          .toArray(),
        await v.get(n)!.toArray(),
        `exp_avg_sq.${n}`,
      );
    }
  });

  it('the device schedule reproduces the host lr schedule and the eager updates exactly', async () => {
    const schedule = { lr: 4e-3, min_lr: 1e-4, warmup_epochs: 1, epochs: 3 };
    const [stepsPerEpoch, accum] = [4, 2];
    const lrs = Array.from({ length: 3 * stepsPerEpoch }, (_, s) =>
      lrForIteration(
        schedule,
        Math.floor(s / stepsPerEpoch),
        (s % stepsPerEpoch) * accum,
        stepsPerEpoch * accum,
        accum,
      ),
    );
    const eager = new ParamStore(mixedState(3));
    const dev = new ParamStore(mixedState(3));
    const [oe, od] = [new AdamW(eager), new AdamW(dev)];
    // the device run resumes mid-way, as from a checkpoint: 5 eager steps, then the schedule
    const resumeAt = 5;
    for (let s = 0; s < lrs.length; s++) {
      setGrads(eager, s);
      setGrads(dev, s);
      oe.update(lrs[s]!);
      if (s < resumeAt) od.update(lrs[s]!);
      else {
        if (s === resumeAt) od.setSchedule(lrs, 0);
        od.updateOnDevice();
        const want = Float32Array.from(adamwHyper(lrs[s]!, s + 1, [B1, B2]));
        assert.deepEqual(await od.hyper.toArray(), want, `hyper at step ${s}`);
      }
    }
    assert.equal(od.step, lrs.length);
    assert.equal(await od.deviceStep(), lrs.length);
    assert.deepEqual(await dev.flatValues.toArray(), await eager.flatValues.toArray());
    assert.deepEqual(await od.flatM.toArray(), await oe.flatM.toArray());
    assert.deepEqual(await od.flatV.toArray(), await oe.flatV.toArray());
  });

  it('setting the step (a restored checkpoint) moves the device row along', async () => {
    const opt = new AdamW(new ParamStore(mixedState()));
    const lrs = [1, 2, 3, 4, 5].map((x) => x * 1e-3);
    opt.setSchedule(lrs, 0);
    opt.step = 3;
    assert.equal(await opt.deviceStep(), 3);
    opt.updateOnDevice();
    assert.deepEqual(await opt.hyper.toArray(), Float32Array.from(adamwHyper(4e-3, 4, [B1, B2])));
  });

  it('refuses to run past the schedule, and schedules that do not fit, naming the steps', () => {
    const opt = new AdamW(new ParamStore(mixedState()));
    assert.throws(() => opt.updateOnDevice(), /no schedule on the device; call setSchedule/);
    opt.setSchedule([1e-3, 2e-3, 3e-3], 0);
    for (let i = 0; i < 3; i++) opt.updateOnDevice();
    assert.throws(
      () => opt.updateOnDevice(),
      /covers steps 0\.\.2; 1 more update\(s\) from step 3 run past its end/,
    );
    assert.equal(opt.step, 3);
    opt.setSchedule([1e-3, 2e-3], 3);
    assert.throws(() => opt.countScheduled(3), /covers steps 3\.\.4; 3 more update\(s\) from step 3/);
    opt.countScheduled(2);
    assert.equal(opt.step, 5);
    assert.throws(
      () => opt.setSchedule([1e-3], 7),
      /taken 5 steps; a schedule for steps 7\.\.7 does not continue/,
    );
    assert.throws(() => opt.setSchedule([], 5), /schedule is empty/);
    assert.throws(
      () => opt.setSchedule([1e-3, Number.NaN], 5),
      /schedule step 6: learning rate must be finite/,
    );
    assert.throws(() => opt.update(-1), /learning rate must be finite and >= 0, got -1/);
  });

  it('keeps the bf16 copy of the parameters current', async () => {
    const p = new ParamStore(mixedState());
    p.enableBf16();
    const opt = new AdamW(p);
    setGrads(p, 0);
    opt.update(1e-2);
    const want = Tensor.fromArray('bf16', [p.layout.total], await p.flatValues.toArray());
    assert.deepEqual(await p.flatBf16!.toArray(), await want.toArray());
  });

  it('updates an f64 store with the f64 kernels', async () => {
    const p = new ParamStore(mixedState(), 'cpu', 'f64');
    const opt = new AdamW(p);
    assert.equal(opt.flatM.dtype, 'f64');
    assert.equal(opt.flatM.numel, p.layout.trainableRows * FLAT_ROW);
    const before = await p.get('a.weight').toFloat64Array();
    const g = p.grad('a.weight');
    g.copyFrom(Tensor.fromArray('f64', g.shape, new Float64Array(g.numel).fill(0.5)) as never);
    opt.update(1e-3);
    const after = await p.get('a.weight').toFloat64Array();
    // first step: the corrected moments are g and g^2, so p <- p (1 - lr wd) - lr g / (|g| + eps)
    for (let i = 0; i < before.length; i++) {
      const want = before[i]! * (1 - 1e-3 * 0.05) - (1e-3 * 0.5) / (0.5 + 1e-8);
      assert.ok(Math.abs(after[i]! - want) < 1e-15, `element ${i}: ${after[i]} vs ${want}`);
    }
  });
});
