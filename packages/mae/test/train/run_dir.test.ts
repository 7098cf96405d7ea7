// run_dir.test.ts: the output folder of a run (src/train/output_dir.ts, history.ts): another
// run's checkpoint is never replaced silently; --resume auto and --overwrite; log.jsonl and
// loss.csv continue the resumed run (work past the checkpoint dropped); numbered snapshots every
// save_every epochs, the newest keep_checkpoints kept; temp files of killed writers removed.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { LOG_FILE, LOSS_FILE } from '../../src/train/history.js';
import { CHECKPOINT_FILE, planOutputDir, removeStaleTemps } from '../../src/train/output_dir.js';
import { pretrain } from '../../src/train/pretrain.js';
import { PretrainSetupError } from '../../src/train/run_plan.js';
import { blobs, outDir, tinyRun } from './helpers.js';

const data = blobs(64); // 4 steps per epoch at batch 16

const logSteps = (dir: string) =>
  readFileSync(join(dir, LOG_FILE), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).steps as number);
const lossRows = (dir: string) =>
  readFileSync(join(dir, LOSS_FILE), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number) as [number, number, number]);
const numbered = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^checkpoint-\d+\.safetensors$/.test(f))
    .sort();

describe('the output folder of a run', function () {
  this.timeout(60000);

  it('refuses a second run into a folder that holds a checkpoint, naming --resume and --overwrite', async () => {
    const run = tinyRun({ steps: 3 });
    const r = await pretrain({ ...run, train: data });
    const before = readFileSync(r.checkpoint);
    await assert.rejects(pretrain({ ...run, train: data }), (e: Error) => {
      assert.ok(e instanceof PretrainSetupError && e.field === 'output_dir', String(e));
      assert.match(e.message, /already holds .*checkpoint-last\.safetensors \(step 3, epoch 0\)/);
      assert.match(e.message, /--resume .*checkpoint-last\.safetensors \(or --resume auto\)/);
      assert.match(e.message, /--overwrite/);
      return true;
    });
    assert.ok(readFileSync(r.checkpoint).equals(before), 'the checkpoint was replaced');
    assert.deepEqual(logSteps(run.config.output_dir), [3]);
  });

  it('--resume auto continues the folder own checkpoint, or starts afresh in an empty one', async () => {
    const dir = outDir();
    const msgs: string[] = [];
    const a = await pretrain({
      ...tinyRun({ steps: 3, output_dir: dir, resume: 'auto' }),
      train: data,
      log: (m) => msgs.push(m),
    });
    assert.equal(a.steps, 3);
    assert.match(msgs.join('\n'), /--resume auto: no checkpoint in .*; starting a new run/);
    const b = await pretrain({
      ...tinyRun({ steps: 6, output_dir: dir, resume: 'auto' }),
      train: data,
      log: (m) => msgs.push(m),
    });
    assert.equal(b.losses.length, 3, 'it resumed at step 3');
    assert.match(
      msgs.join('\n'),
      /--resume auto: continuing .*checkpoint-last\.safetensors \(step 3, epoch 0\)/,
    );
    assert.deepEqual(logSteps(dir), [3, 4, 6]);
  });

  it('--overwrite starts over: the old checkpoints and log are replaced', async () => {
    const run = tinyRun({ steps: 5 });
    const dir = run.config.output_dir;
    await pretrain({ ...run, train: data });
    assert.ok(numbered(dir).length > 0);
    const r = await pretrain({ ...tinyRun({ steps: 2, output_dir: dir, overwrite: true }), train: data });
    assert.equal((await loadCheckpoint(r.checkpoint)).step, 2);
    assert.deepEqual(logSteps(dir), [2]);
    assert.deepEqual(numbered(dir), ['checkpoint-2.safetensors']);
    assert.deepEqual(
      lossRows(dir).map((x) => x[0]),
      [1, 2],
    );
  });

  it('refuses to resume a checkpoint from elsewhere into a folder that holds a run of its own', async () => {
    const a = await pretrain({ ...tinyRun({ steps: 2 }), train: data });
    const other = tinyRun({ steps: 2 });
    await pretrain({ ...other, train: data });
    await assert.rejects(
      pretrain({
        ...tinyRun({ steps: 4, output_dir: other.config.output_dir, resume: a.checkpoint }),
        train: data,
      }),
      /holds another run's checkpoint.*resuming .* there would replace it/,
    );
  });

  it('a resumed run continues log.jsonl and loss.csv from its checkpoint, dropping the lost steps', async () => {
    const whole = await pretrain({
      ...tinyRun({ steps: 12, save_every: 1, keep_checkpoints: 0 }),
      train: data,
    });
    const dir = whole.outputDir;
    assert.deepEqual(numbered(dir), [
      'checkpoint-12.safetensors',
      'checkpoint-4.safetensors',
      'checkpoint-8.safetensors',
    ]);
    assert.deepEqual(logSteps(dir), [4, 8, 12]);
    // as if the run had died after step 12 and its checkpoint-last were lost: go back to step 4
    const again = await pretrain({
      ...tinyRun({
        steps: 12,
        save_every: 1,
        keep_checkpoints: 0,
        output_dir: dir,
        resume: join(dir, 'checkpoint-4.safetensors'),
      }),
      train: data,
    });
    assert.deepEqual(logSteps(dir), [4, 8, 12]);
    const rows = lossRows(dir);
    assert.deepEqual(
      rows.map((x) => x[0]),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      rows.map((x) => x[1]),
      whole.losses,
    );
    assert.deepEqual(again.losses, whole.losses.slice(4));
    // into a new folder: the record of the checkpoint's folder up to its step comes along
    const fresh = outDir();
    await pretrain({
      ...tinyRun({ steps: 10, output_dir: fresh, resume: join(dir, 'checkpoint-8.safetensors') }),
      train: data,
    });
    assert.deepEqual(logSteps(fresh), [4, 8, 10]);
    assert.deepEqual(
      lossRows(fresh).map((x) => x[1]),
      whole.losses.slice(0, 10),
    );
  });

  it('writes checkpoint-<step> every save_every epochs and at the last, keeping the newest keep_checkpoints', async () => {
    const r = await pretrain({ ...tinyRun({ epochs: 5, save_every: 2, keep_checkpoints: 2 }), train: data });
    // epochs 0, 2 and 4 (the last) end at steps 4, 12 and 20; the newest 2 are kept
    assert.deepEqual(numbered(r.outputDir), ['checkpoint-12.safetensors', 'checkpoint-20.safetensors']);
    for (const step of [12, 20])
      assert.equal((await loadCheckpoint(join(r.outputDir, `checkpoint-${step}.safetensors`))).step, step);
    // a snapshot is a file of its own: the next checkpoint-last does not change it
    const snap = readFileSync(join(r.outputDir, 'checkpoint-12.safetensors'));
    assert.ok(!snap.equals(readFileSync(r.checkpoint)));
  });

  it('removes the temp files of writers that are gone, and only those', () => {
    const dir = outDir();
    const dead = `${CHECKPOINT_FILE}.tmp-999999999-0a1b2c`;
    const mine = `${CHECKPOINT_FILE}.tmp-${process.pid}-0a1b2c`;
    const parent = `${CHECKPOINT_FILE}.tmp-${process.ppid}-0a1b2c`;
    for (const f of [dead, mine, parent, 'notes.tmp-1-zz']) writeFileSync(join(dir, f), 'x');
    assert.deepEqual(removeStaleTemps(dir), [dead]);
    assert.deepEqual(readdirSync(dir).sort(), [mine, parent, 'notes.tmp-1-zz'].sort());
  });

  it('plans without reading more than the headers, and refuses a file where the folder should be', async () => {
    const dir = outDir();
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    await assert.rejects(planOutputDir({ output_dir: file, overwrite: false }), /exists and is not a folder/);
    assert.deepEqual(await planOutputDir({ output_dir: join(dir, 'new'), overwrite: false }), {});
    // numbered checkpoints alone also hold a run
    const r = await pretrain({ ...tinyRun({ steps: 1 }), train: data });
    const only = outDir();
    copyFileSync(r.checkpoint, join(only, 'checkpoint-1.safetensors'));
    await assert.rejects(
      planOutputDir({ output_dir: only, overwrite: false }),
      /already holds .*checkpoint-1/,
    );
    await assert.rejects(
      planOutputDir({ output_dir: only, overwrite: false, resume: 'auto' }),
      /no checkpoint-last/,
    );
    assert.ok(!existsSync(join(only, CHECKPOINT_FILE)));
  });
});
