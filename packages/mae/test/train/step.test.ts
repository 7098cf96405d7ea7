// The whole-step path on the CPU (the body a CUDA graph captures): device noise, masking, forward,
// backward, the device-scheduled AdamW update and the counter's advance give exactly the losses
// and parameters of the eager per-step path (host noise, host masking, update(lr)).
import assert from 'node:assert/strict';
import { DeviceEvent, memoryStats, Tensor } from '@mae-cuda/native';
import { lenKeep, numPatches } from '../../src/config/model.js';
import { preset } from '../../src/config/presets.js';
import { initialState } from '../../src/init/state.js';
import { NoiseCounter } from '../../src/masking/device.js';
import { randomMasking } from '../../src/masking/random_masking.js';
import { MASK_SAMPLINGS, maskScores } from '../../src/masking/sampling.js';
import { MaskedAutoencoder } from '../../src/model/mae.js';
import { ParamStore } from '../../src/model/params.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/optim/adamw.js';
import { Streams } from '../../src/rng/noise.js';
import { LossLog, releaseWhenCopied, TrainStep } from '../../src/train/step.js';
import { compareCurves, lossCurve, makeTrainStep, syntheticImages } from '../../src/train/step_check.js';

const model = preset('mae_tiny_28', { depth: 2, decoder_depth: 1 });
const B = 4;
const lrs = [1e-3, 2e-3, 5e-4, 1e-3];

describe('TrainStep on the CPU', () => {
  for (const sampling of MASK_SAMPLINGS)
    it(`equals the eager per-step path bit for bit (losses and parameters; ${sampling} masking)`, async () => {
      const imgs = syntheticImages(model, B, 3);
      const side = model.img_size / model.patch_size;
      const scores = (s: number) =>
        maskScores({ sampling, seed: 3, step: s, N: B, side, maskRatio: model.mask_ratio });
      // eager: host noise and masking, update(lr)
      const pa = new ParamStore(initialState(model, 3), 'cpu');
      const ma = new MaskedAutoencoder(model, pa);
      const oa = new AdamW(pa, DEFAULT_ADAMW);
      const eager: number[] = [];
      for (let s = 0; s < lrs.length; s++) {
        const noise = scores(s);
        const r = await ma.forward(
          Tensor.fromArray('f32', [B, 1, 28, 28], imgs),
          randomMasking(noise, B, numPatches(model), model.mask_ratio),
        );
        ma.backward(1);
        oa.update(lrs[s]!);
        eager.push(r.loss);
      }
      // whole step
      const pb = new ParamStore(initialState(model, 3), 'cpu');
      const ob = new AdamW(pb, DEFAULT_ADAMW);
      ob.setSchedule(lrs, 0);
      const step = new TrainStep(
        new MaskedAutoencoder(model, pb),
        ob,
        new NoiseCounter(3, Streams.maskNoise, 0, 0, 'cpu'),
        B,
        { hostScores: sampling !== 'random' },
      );
      step.imgs.write(imgs);
      const whole: number[] = [];
      for (let s = 0; s < lrs.length; s++) {
        if (sampling !== 'random') step.loadScores(scores(s));
        whole.push((await step.run().toArray())[0]!);
      }
      assert.deepEqual(whole, eager);
      assert.deepEqual(step.phases, ['eager', 'eager', 'eager', 'eager'], 'no graph on the CPU');
      assert.equal(ob.step, lrs.length);
      const [a, b] = [await pa.toState(), await pb.toState()];
      for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
      assert.ok(lenKeep(model) < numPatches(model));
    });

  it('stops before running past the device schedule', async () => {
    const p = new ParamStore(initialState(model, 1), 'cpu');
    const o = new AdamW(p, DEFAULT_ADAMW);
    o.setSchedule([1e-3], 0);
    const step = new TrainStep(new MaskedAutoencoder(model, p), o, new NoiseCounter(1, 0, 0, 0, 'cpu'), 2);
    step.run();
    assert.throws(() => step.run(), /past its end|schedule/);
  });

  it('runs eager steps in a steady footprint: each run after the first frees its temporaries', () => {
    const step = makeTrainStep({ model, device: 'cpu', batch: B, steps: 8 });
    const after: number[] = [];
    for (let i = 0; i < 6; i++) {
      const loss = step.run();
      assert.ok(Number.isFinite(loss.toArraySync()[0]!));
      after.push(memoryStats('cpu').allocated);
    }
    // run 1 may keep what it created (until the garbage collector); from run 2 on only the loss
    // each run returns stays (the caller holds it: one 512-byte block)
    for (let i = 2; i < after.length; i++)
      assert.ok(after[i]! - after[i - 1]! <= 512, `allocated after each run: ${after.join(', ')}`);
    step.dispose();
  });

  it('lossCurve and compareCurves: the same run twice is identical; another seed is not', async () => {
    const o = { model, device: 'cpu' as const, batch: 2, steps: 3 };
    const a = await lossCurve(o);
    const cmp = compareCurves(a, await lossCurve(o));
    assert.equal(cmp.maxRel, 0);
    assert.ok(compareCurves(a, await lossCurve({ ...o, seed: 5 })).maxRel > 1e-4);
    assert.throws(() => compareCurves([1], [1, 2]), /differ in length/);
  });
});

describe('LossLog', () => {
  it('keeps losses on the device until drained, in order, with their metadata', async () => {
    const log = new LossLog<number>(3, Tensor.zeros('f32', [1]));
    for (const [i, v] of [0.5, 0.25, Number.NaN].entries()) log.record(Tensor.fromArray('f32', [1], [v]), i);
    assert.equal(log.full, true);
    assert.throws(() => log.record(Tensor.zeros('f32', [1]), 9), /full/);
    const got = await log.drain();
    assert.deepEqual(
      got.map((g) => g.meta),
      [0, 1, 2],
    );
    assert.deepEqual(
      got.slice(0, 2).map((g) => g.loss),
      [0.5, 0.25],
    );
    assert.ok(Number.isNaN(got[2]!.loss));
    assert.equal(log.size, 0);
    assert.deepEqual(await log.drain(), []);
    assert.throws(() => new LossLog(0, Tensor.zeros('f32', [1])), /positive integer/);
  });
});

describe('TrainStep with bucketed all-reduce', () => {
  it('hands every trainable gradient to a bucket once per step, joins, and changes nothing for a world of 1', async () => {
    const imgs = syntheticImages(model, B, 4);
    const run = async (overlap: boolean) => {
      const p = new ParamStore(initialState(model, 4), 'cpu');
      const o = new AdamW(p, DEFAULT_ADAMW);
      o.setSchedule(lrs, 0);
      const seen: string[][] = [];
      let joins = 0;
      const step = new TrainStep(new MaskedAutoencoder(model, p), o, new NoiseCounter(4, 0, 0, 0, 'cpu'), B, {
        mean: () => {}, // a world of 1
        ...(overlap
          ? {
              overlap: () => ({
                bucket: (ts) => seen.push(ts.map((t) => String(t.numel))),
                join: () => {
                  joins++;
                },
              }),
            }
          : {}),
      });
      step.imgs.write(imgs);
      const losses: number[] = [];
      for (let s = 0; s < 2; s++) losses.push((await step.run().toArray())[0]!);
      return { losses, seen, joins, values: await p.flatValues.toArray(), trainable: o.trainable.length };
    };
    const [a, b] = [await run(true), await run(false)];
    assert.equal(a.joins, 2);
    assert.equal(a.seen.flat().length, 2 * a.trainable, 'each trainable gradient once per step');
    assert.deepEqual(a.losses, b.losses);
    assert.deepEqual(a.values, b.values);
  });
});

describe('releaseWhenCopied', () => {
  it('releases at once without an event, and after a recorded event completes', async () => {
    let released = 0;
    releaseWhenCopied(undefined, () => released++);
    assert.equal(released, 1);
    const ev = DeviceEvent.create('cpu').record();
    await new Promise<void>((resolve) =>
      releaseWhenCopied(ev, () => {
        released++;
        resolve();
      }),
    );
    assert.equal(released, 2);
  });

  it('loadImagesU8 on the CPU copies before it returns (no event)', () => {
    const p = new ParamStore(initialState(model, 1), 'cpu');
    const o = new AdamW(p, DEFAULT_ADAMW);
    o.setSchedule([1e-3], 0);
    const step = new TrainStep(new MaskedAutoencoder(model, p), o, new NoiseCounter(1, 0, 0, 0, 'cpu'), 2);
    const hwc = new Uint8Array(2 * 28 * 28).map((_, i) => i % 251);
    const mean = Tensor.fromArray('f32', [1], [0.5]);
    const std = Tensor.fromArray('f32', [1], [0.25]);
    assert.equal(step.loadImagesU8(hwc, mean, std), undefined);
    const imgs = step.imgs.toArraySync();
    assert.ok(Math.abs(imgs[5]! - (5 / 255 - 0.5) / 0.25) < 1e-6);
    assert.throws(() => step.loadImagesU8(hwc.subarray(1), mean, std), /bytes for \[2, 28, 28, 1\]/);
  });
});
