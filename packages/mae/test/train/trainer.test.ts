// trainer.test.ts: the pretraining loop on tiny runs: the loss falls; the checkpoint holds the
// trained model exactly; resuming gives exactly the losses of an uninterrupted run; 2 micro-batches
// of B/2 equal one batch of B; a non-finite loss stops the run and leaves the checkpoint intact.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectGarbage, memoryStats } from '@mae-cuda/native';
import { numPatches } from '../../src/config/model.js';
import { ImageDataset } from '../../src/data/dataset.js';
import { batchTensor } from '../../src/data/loader.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { randomMasking } from '../../src/masking/random_masking.js';
import { MaskedAutoencoder } from '../../src/model/mae.js';
import { ParamStore } from '../../src/model/params.js';
import { batchNoise } from '../../src/rng/noise.js';
import { NonFiniteLossError } from '../../src/train/outputs.js';
import { pretrain } from '../../src/train/pretrain.js';
import { runPlan } from '../../src/train/run_plan.js';
import { loadTrainingState } from '../../src/train/state.js';
import { blobs, tinyRun } from './helpers.js';

const data = blobs(64);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('pretrain', function () {
  this.timeout(60000);

  it('lowers the loss over a short run and writes its outputs', async () => {
    const { config, model } = tinyRun({ epochs: 6 });
    const epochs: number[] = [];
    const r = await pretrain({
      config,
      model,
      train: data,
      preview: blobs(4, 8),
      onEpoch: (e) => epochs.push(e.loss),
    });
    assert.equal(r.steps, 6 * 4);
    assert.equal(r.losses.length, 24);
    assert.ok(
      mean(r.losses.slice(-4)) < 0.7 * mean(r.losses.slice(0, 4)),
      `loss did not fall: ${r.losses.map((x) => x.toFixed(3)).join(' ')}`,
    );
    const lines = readFileSync(join(config.output_dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.epoch),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      lines.map((l) => l.steps),
      [4, 8, 12, 16, 20, 24],
    );
    for (const l of lines)
      for (const k of ['loss', 'lr', 'images_per_s', 'seconds']) assert.equal(typeof l[k], 'number');
    assert.deepEqual(
      lines.map((l) => l.loss),
      epochs,
    );
    for (const f of ['checkpoint-last.safetensors', 'reconstructions.png', 'loss.png', 'config.json'])
      assert.ok(existsSync(join(config.output_dir, f)), f);
    assert.deepEqual(
      readdirSync(config.output_dir).filter((f) => f.includes('.tmp-')),
      [],
      'temp files left',
    );
  });

  it('checkpoints the model and optimiser exactly', async () => {
    const { config, model } = tinyRun({ steps: 5 });
    const r = await pretrain({ config, model, train: data });
    const ck = await loadCheckpoint(r.checkpoint);
    assert.equal(ck.step, 5);
    assert.equal(ck.epoch, 1);
    const restored = await loadTrainingState(r.checkpoint, model, r.optim.trainable);
    for (const name of r.optim.trainable) {
      assert.deepEqual(restored.m.get(name), await r.optim.m.get(name)!.toArray(), name);
      assert.deepEqual(restored.v.get(name), await r.optim.v.get(name)!.toArray(), name);
      assert.ok(ck.optimizer[`exp_avg.${name}`] && ck.optimizer[`exp_avg_sq.${name}`], name);
    }
    assert.ok('blocks.0.attn.qkv.weight' in ck.model && 'decoder_pred.bias' in ck.model);
    // the loaded model gives the same loss as the trained one
    const loaded = new MaskedAutoencoder(model, new ParamStore(restored.state));
    const L = numPatches(model);
    const imgs = batchTensor(data, [0, 1, 2, 3, 4, 5, 6, 7]);
    const masking = randomMasking(batchNoise(1, 0, 0, 8, L), 8, L, model.mask_ratio);
    const a = await r.model.forward(imgs, masking);
    const b = await loaded.forward(imgs, masking);
    assert.equal(b.loss, a.loss);
  });

  it('resumes with exactly the losses of an uninterrupted run', async () => {
    const whole = tinyRun({ steps: 7 });
    const lrs: number[] = [];
    const full = await pretrain({ ...whole, train: data, onStep: (s) => lrs.push(s.lr) });
    assert.equal(full.losses.length, 7);
    const first = tinyRun({ steps: 3 });
    const a = await pretrain({ ...first, train: data });
    const second = tinyRun({ steps: 7, resume: a.checkpoint, output_dir: first.config.output_dir });
    const resumedLrs: number[] = [];
    const b = await pretrain({ ...second, train: data, onStep: (s) => resumedLrs.push(s.lr) });
    assert.deepEqual([...a.losses, ...b.losses], full.losses);
    assert.deepEqual(resumedLrs, lrs.slice(3));
    for (const name of full.optim.trainable)
      assert.deepEqual(
        await b.model.params.get(name).toArray(),
        await full.model.params.get(name).toArray(),
        name,
      );
    // log.jsonl goes on: the partial epoch 0 of the first run, then epoch 0 and 1 of the resumed one
    const steps = readFileSync(join(first.config.output_dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).steps);
    assert.deepEqual(steps, [3, 4, 7]);
  });

  it('accumulating micro-batches (the eager loop) frees each one at once: a steady footprint', async () => {
    await collectGarbage(); // the garbage of earlier tests would otherwise be freed in the middle
    const allocated: number[] = [];
    await pretrain({
      ...tinyRun({ steps: 6, batch_size: 8, accum_iter: 2, clip_grad: 1 }),
      train: data,
      onStep: () => allocated.push(memoryStats('cpu').allocated),
    });
    // every micro-step, the first included, frees what it made (what the model keeps it makes
    // untracked): nothing piles up
    assert.equal(allocated.length, 6);
    assert.deepEqual(
      allocated,
      Array(6).fill(allocated[0]),
      `allocated after each step: ${allocated.join(', ')}`,
    );
  });

  it('accumulating 2 micro-batches of B/2 equals one batch of B', async () => {
    const one = await pretrain({ ...tinyRun({ steps: 4, batch_size: 16 }), train: data });
    const two = await pretrain({ ...tinyRun({ steps: 4, batch_size: 8, accum_iter: 2 }), train: data });
    assert.equal(two.steps, 4);
    one.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - two.losses[i]!) <= 1e-5 * Math.abs(l), `step ${i}: ${l} vs ${two.losses[i]}`),
    );
    for (const name of one.optim.trainable) {
      // the key slice of a qkv bias gets a zero gradient plus rounding noise, which AdamW turns
      // into steps of ~lr (see qkvBiasChecks in src/parity/run.ts): compare the q and v slices
      const qv = (t: Float32Array) =>
        name.endsWith('attn.qkv.bias')
          ? Float32Array.from([...t.subarray(0, t.length / 3), ...t.subarray((2 * t.length) / 3)])
          : t;
      const x = qv(await one.model.params.get(name).toArray());
      const y = qv(await two.model.params.get(name).toArray());
      let d = 0;
      let n = 0;
      for (let i = 0; i < x.length; i++) {
        d += (x[i]! - y[i]!) ** 2;
        n += x[i]! ** 2;
      }
      assert.ok(
        Math.sqrt(d) <= 1e-4 * Math.sqrt(n) + 1e-7,
        `${name}: relative difference ${Math.sqrt(d / n)}`,
      );
    }
    // and the accumulated run differs from a run with one micro-batch of B/2 (the test can fail)
    const half = await pretrain({ ...tinyRun({ steps: 4, batch_size: 8 }), train: data });
    assert.notDeepEqual(half.losses, one.losses);
  });

  it('stops on a non-finite loss and leaves the last checkpoint intact', async () => {
    const run = tinyRun({ epochs: 3 });
    const good = await pretrain({ ...tinyRun({ steps: 4, output_dir: run.config.output_dir }), train: data });
    const before = readFileSync(good.checkpoint);
    const log = readFileSync(join(run.config.output_dir, 'log.jsonl'));
    const pixels = new Float32Array(64 * 256).fill(0.5);
    pixels[17 * 256 + 5] = Number.NaN;
    const bad = new ImageDataset({ name: 'nan', shape: [1, 16, 16], pixels, mean: [0.2], std: [0.3] });
    await assert.rejects(
      pretrain({
        ...tinyRun({ epochs: 3, resume: good.checkpoint, output_dir: run.config.output_dir }),
        train: bad,
      }),
      (e: Error) => {
        assert.ok(e instanceof NonFiniteLossError);
        assert.match(e.message, /loss is NaN at step \d+ .*stopping/);
        assert.match(e.message, /checkpoint-last\.safetensors \(step 4\), is intact/);
        return true;
      },
    );
    assert.ok(readFileSync(good.checkpoint).equals(before), 'the checkpoint changed');
    assert.ok(readFileSync(join(run.config.output_dir, 'log.jsonl')).equals(log), 'log.jsonl changed');
  });

  it('plans whole accumulation windows and refuses a dataset too small for one step', () => {
    const { config } = tinyRun({ batch_size: 8, accum_iter: 3 });
    const p = runPlan(config, 70); // 8 micro-batches -> 2 windows of 3
    assert.equal(p.stepsPerEpoch, 2);
    assert.equal(p.totalSteps, 2 * config.epochs);
    assert.equal(p.schedule.lr, 3e-3);
    assert.throws(() => runPlan(config, 20), /too few for one step/);
    assert.equal(
      runPlan(tinyRun({ lr: undefined, blr: 1e-3, batch_size: 64, accum_iter: 2 }).config, 1000).schedule.lr,
      (1e-3 * 128) / 256,
    );
  });
});
