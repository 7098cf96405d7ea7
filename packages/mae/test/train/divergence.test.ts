// divergence.test.ts: a run whose loss or update goes non-finite (first step, mid-epoch, last
// step) stops with an error naming the step, its loss and the last good checkpoint; nothing
// non-finite is ever saved, the last checkpoint stays byte for byte, no temp file is left; and a
// checkpoint holding a non-finite value is refused on resume.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDataset } from '../../src/data/dataset.js';
import { readSafetensors, writeSafetensorsAtomic } from '../../src/io/safetensors.js';
import { CHECKPOINT_FILE } from '../../src/train/output_dir.js';
import { NonFiniteLossError } from '../../src/train/outputs.js';
import { pretrain } from '../../src/train/pretrain.js';
import { blobs, tinyRun } from './helpers.js';

const data = blobs(64); // 4 steps per epoch at batch 16

function assertNoTemps(dir: string): void {
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    'temp files left',
  );
}

async function assertAllFinite(path: string): Promise<void> {
  const { tensors } = await readSafetensors(path);
  for (const [name, t] of tensors)
    if (t.dtype === 'F32') assert.ok(t.data.every(Number.isFinite), `${name} holds non-finite values`);
}

/** A good run of `steps` steps, its checkpoint's bytes, and a run resuming it at lr 1e308 up to `to`. */
async function goodThenDiverging(steps: number, to: number) {
  const run = tinyRun({ steps });
  const good = await pretrain({ ...run, train: data });
  const before = readFileSync(good.checkpoint);
  const diverge = tinyRun({
    steps: to,
    lr: 1e308,
    output_dir: run.config.output_dir,
    resume: good.checkpoint,
  });
  return { run, good, before, diverge };
}

describe('a diverging run', function () {
  this.timeout(60000);

  it('an update that blows up on the last step is a failure, and nothing is saved', async () => {
    const run = tinyRun({ steps: 1, lr: 1e308 });
    await assert.rejects(pretrain({ ...run, train: data }), (e: Error) => {
      assert.ok(e instanceof NonFiniteLossError, String(e));
      assert.match(e.message, /weights are not finite after step 1 \(its loss was [\d.]+\)/);
      assert.match(e.message, /non-finite values/);
      assert.match(e.message, /No checkpoint was written yet/);
      return true;
    });
    assert.ok(!existsSync(join(run.config.output_dir, CHECKPOINT_FILE)));
    assertNoTemps(run.config.output_dir);
  });

  it('mid-epoch: the step after the bad update stops the run; the last checkpoint is intact', async () => {
    const { run, good, before, diverge } = await goodThenDiverging(4, 12);
    await assert.rejects(pretrain({ ...diverge, train: data }), (e: Error) => {
      assert.ok(e instanceof NonFiniteLossError, String(e));
      assert.match(e.message, /loss is (NaN|-?Infinity) at step 6 \(epoch 1\)/);
      assert.match(e.message, /checkpoint-last\.safetensors \(step 4\), is intact/);
      return true;
    });
    assert.ok(readFileSync(good.checkpoint).equals(before), 'the checkpoint changed');
    await assertAllFinite(good.checkpoint);
    assertNoTemps(run.config.output_dir);
  });

  it('resumed into another folder: the message names the checkpoint it resumed from, which exists', async () => {
    const good = await pretrain({ ...tinyRun({ steps: 4 }), train: data });
    const elsewhere = tinyRun({ steps: 12, lr: 1e308, resume: good.checkpoint });
    await assert.rejects(pretrain({ ...elsewhere, train: data }), (e: Error) => {
      const named = /The last checkpoint, (.*) \(step 4\), is intact/.exec(e.message)?.[1];
      assert.equal(named, good.checkpoint, e.message);
      return true;
    });
    assert.ok(!existsSync(join(elsewhere.config.output_dir, CHECKPOINT_FILE)));
  });

  it('at an epoch end: the weights are checked before the save, which never happens', async () => {
    // the update of step 4 (the epoch's last) diverges; the save at its end is refused
    const { run, good, before, diverge } = await goodThenDiverging(3, 4);
    await assert.rejects(pretrain({ ...diverge, train: data }), (e: Error) => {
      assert.match(e.message, /weights are not finite after step 4 .*an update after step 3 diverged/);
      assert.match(e.message, /checkpoint-last\.safetensors \(step 3\), is intact/);
      return true;
    });
    assert.ok(readFileSync(good.checkpoint).equals(before));
    assertNoTemps(run.config.output_dir);
  });

  it('a non-finite loss on the first step stops the run before any file is written', async () => {
    const pixels = new Float32Array(64 * 256).fill(0.5);
    pixels[3] = Number.POSITIVE_INFINITY;
    const bad = new ImageDataset({ name: 'inf', shape: [1, 16, 16], pixels, mean: [0.2], std: [0.3] });
    const run = tinyRun({ steps: 2 });
    await assert.rejects(
      pretrain({ ...run, train: bad }),
      /loss is (NaN|Infinity) at step 1 \(epoch 0\).*No checkpoint was written yet/,
    );
    assert.ok(!existsSync(join(run.config.output_dir, CHECKPOINT_FILE)));
  });

  it('refuses to resume a checkpoint that holds a non-finite value, naming the tensor', async () => {
    const run = tinyRun({ steps: 2 });
    const good = await pretrain({ ...run, train: data });
    const { tensors, metadata } = await readSafetensors(good.checkpoint);
    const w = tensors.get('blocks.0.mlp.fc1.weight')!;
    assert.equal(w.dtype, 'F32');
    (w.data as Float32Array)[7] = Number.NaN;
    await writeSafetensorsAtomic(good.checkpoint, tensors, metadata);
    await assert.rejects(
      pretrain({
        ...tinyRun({ steps: 4, output_dir: run.config.output_dir, resume: good.checkpoint }),
        train: data,
      }),
      /blocks\.0\.mlp\.fc1\.weight has 1 non-finite value/,
    );
  });
});
