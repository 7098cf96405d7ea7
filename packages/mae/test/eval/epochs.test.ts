// epochs.test.ts: the loop linprobe and finetune share, on stand-in steps: with accum_iter the lr
// is set at data_iter_step / len(data_loader) + epoch on each window's first iteration, the update
// comes after its last (iterations past the last whole window run, without an update, as the
// official loop), lr = blr x batch x accum_iter / 256, so 2 x B and 1 x 2B give the same updates
// at the same lrs on the same images; the iterations are keyed by their index in the run;
// checkpoint-best only on a better top-1, checkpoint-last every epoch; a resumed loop starts at
// its epoch with its best and continues the log (the lost epochs' lines dropped), and resumed from
// another folder takes that folder's checkpoint-best along.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochOrder } from '../../src/data/loader.js';
import {
  type EpochLoop,
  type EvalEpoch,
  epochSchedule,
  type Iteration,
  runEpochs,
} from '../../src/eval/epochs.js';
import { writeSafetensorsAtomic } from '../../src/io/safetensors.js';
import { lrAt } from '../../src/schedule/lr.js';

interface Trace {
  micro: { idx: number[]; it: Iteration }[];
  updates: { lr: number; after: number }[];
  best: number[];
  last: { epoch: number; best: number; steps: number }[];
}

/** A loop over `images` with stand-in steps that record what they are asked (top-1 from `top1s`). */
function loop(o: {
  images: number;
  batchSize: number;
  accumIter: number;
  epochs: number;
  top1s?: number[];
  start?: EpochLoop['start'];
  outputDir?: string;
}) {
  const t: Trace = { micro: [], updates: [], best: [], last: [] };
  const s = {
    epochs: o.epochs,
    warmupEpochs: 1,
    blr: 1e-3,
    minLr: 0,
    batchSize: o.batchSize,
    accumIter: o.accumIter,
  };
  let evals = o.start?.epoch ?? 0;
  const l: EpochLoop = {
    name: 'test',
    images: o.images,
    batchSize: o.batchSize,
    accumIter: o.accumIter,
    seed: 3,
    schedule: epochSchedule(s),
    outputDir: o.outputDir ?? mkdtempSync(join(tmpdir(), 'mae-epochs-')),
    start: o.start,
    micro: async (idx, it) => {
      t.micro.push({ idx: [...idx], it });
      return it.index;
    },
    update: async (lr) => {
      t.updates.push({ lr, after: t.micro.length });
    },
    evaluate: async () => [o.top1s?.[evals++] ?? 0, 100],
    saveBest: async (e) => {
      t.best.push(e.epoch);
    },
    saveLast: async (e, best, steps) => {
      t.last.push({ epoch: e.epoch, best: best.epoch, steps });
    },
  };
  return { l, t };
}

describe('the linprobe / finetune epoch loop', () => {
  it('accum_iter: lr set at each window start, updates after its last iteration, the rest run without one', async () => {
    const { l, t } = loop({ images: 11, batchSize: 2, accumIter: 2, epochs: 2 });
    await runEpochs(l);
    // 5 iterations an epoch (drop_last), 2 windows; iteration 4 runs and is dropped
    assert.equal(t.micro.length, 10);
    assert.deepEqual(
      t.micro.map((m) => [m.it.epoch, m.it.index, m.it.k]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => [Math.floor(i / 5), i, (i % 5) % 2]),
    );
    assert.deepEqual(
      t.updates.map((u) => u.after),
      [2, 4, 7, 9],
    );
    const sched = epochSchedule({
      epochs: 2,
      warmupEpochs: 1,
      blr: 1e-3,
      minLr: 0,
      batchSize: 2,
      accumIter: 2,
    });
    assert.equal(sched.lr, (1e-3 * 4) / 256, 'lr = blr x batch x accum_iter / 256');
    assert.deepEqual(
      t.updates.map((u) => u.lr),
      [0 / 5, 2 / 5, 1 + 0 / 5, 1 + 2 / 5].map((e) => lrAt(sched, e)),
    );
    // each epoch's images in its seeded order, batch by batch
    const order = epochOrder(3, 1, 11);
    assert.deepEqual(t.micro[5]!.idx, [...order.subarray(0, 2)]);
  });

  it('2 x B and 1 x 2B: the same images in each update, at the same lr', async () => {
    const a = loop({ images: 32, batchSize: 4, accumIter: 2, epochs: 3 });
    const b = loop({ images: 32, batchSize: 8, accumIter: 1, epochs: 3 });
    await runEpochs(a.l);
    await runEpochs(b.l);
    assert.equal(a.t.updates.length, 12);
    assert.deepEqual(
      a.t.updates.map((u) => u.lr),
      b.t.updates.map((u) => u.lr),
    );
    for (let s = 0; s < 12; s++)
      assert.deepEqual([...a.t.micro[2 * s]!.idx, ...a.t.micro[2 * s + 1]!.idx], b.t.micro[s]!.idx);
    assert.deepEqual(a.t.last, b.t.last);
  });

  it('refuses too few images for one step', async () => {
    const { l } = loop({ images: 7, batchSize: 4, accumIter: 2, epochs: 2 });
    await assert.rejects(runEpochs(l), /7 training images give no step of batch 4 x accum_iter 2/);
  });

  it('keeps the best by top-1, writes the last state every epoch; a resumed loop continues it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mae-epochs-'));
    const top1s = [10, 30, 20, 40];
    const full = loop({ images: 8, batchSize: 4, accumIter: 1, epochs: 4, top1s, outputDir: dir });
    const { epochs } = await runEpochs(full.l);
    assert.deepEqual(full.t.best, [0, 1, 3]);
    assert.deepEqual(
      full.t.last.map((x) => [x.epoch, x.best, x.steps]),
      [
        [0, 0, 2],
        [1, 1, 4],
        [2, 1, 6],
        [3, 3, 8],
      ],
    );
    const log = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n');
    assert.equal(log.length, 4);
    // killed in epoch 3 after checkpoint-last of epoch 1 (epoch 2's line written, its checkpoint not)
    const out = mkdtempSync(join(tmpdir(), 'mae-epochs-'));
    writeFileSync(join(dir, 'log.jsonl'), `${log.slice(0, 3).join('\n')}\n{"epoch":`);
    const t = { dtype: 'F32' as const, shape: [1], data: Float32Array.of(1) };
    await writeSafetensorsAtomic(join(dir, 'checkpoint-best.safetensors'), { w: t }, { epoch: '1' });
    const best = epochs[1] as EvalEpoch;
    const resumed = loop({
      images: 8,
      batchSize: 4,
      accumIter: 1,
      epochs: 4,
      top1s,
      outputDir: out,
      start: { epoch: 2, best, logFrom: dir },
    });
    const r = await runEpochs(resumed.l);
    assert.deepEqual(
      resumed.t.micro.map((m) => m.it.index),
      [4, 5, 6, 7],
    );
    assert.deepEqual(resumed.t.best, [3], 'epoch 2 (20%) is not better than epoch 1 (30%)');
    assert.deepEqual(resumed.t.last, full.t.last.slice(2));
    assert.equal(r.best!.epoch, 3);
    const continued = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n');
    assert.deepEqual(continued.slice(0, 2), log.slice(0, 2));
    assert.deepEqual(
      continued.map((x) => JSON.parse(x).epoch),
      [0, 1, 2, 3],
    );
    const best1 = readFileSync(join(dir, 'checkpoint-best.safetensors'));
    assert.ok(
      readFileSync(join(out, 'checkpoint-best.safetensors')).equals(best1),
      'checkpoint-best came along',
    );
  });
});
