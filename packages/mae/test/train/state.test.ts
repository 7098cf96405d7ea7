// state.test.ts: the training state as a checkpoint on a tiny model: a save/resume round trip
// (extra metadata included); a NaN or Inf in a parameter or a moment aborts the save with a
// NonFiniteTensorError naming it, the old checkpoint byte for byte intact and no temp file left;
// a checkpoint with a non-finite value (planted with the raw writer) is refused naming the
// tensor; truncated, mistyped, incomplete and other-architecture checkpoints give clear errors.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preset } from '../../src/config/presets.js';
import { initialState } from '../../src/init/state.js';
import { readCheckpointInfo } from '../../src/io/checkpoint.js';
import {
  readSafetensors,
  type StTensor,
  stTensor,
  writeSafetensorsAtomic,
} from '../../src/io/safetensors.js';
import { ParamStore } from '../../src/model/params.js';
import { AdamW } from '../../src/optim/adamw.js';
import {
  loadTrainingState,
  NonFiniteTensorError,
  type RunMetadata,
  restoreOptimizer,
  saveTrainingState,
} from '../../src/train/state.js';

const config = preset('mae_tiny_28');
const meta: RunMetadata = { model: config, lr: 1e-3, note: 'tiny' };
const QKV = 'blocks.0.attn.qkv.weight';

/** A store and an optimiser with moments that are not zero, after 17 steps. */
function training(seed = 5) {
  const params = new ParamStore(initialState(config, seed));
  const optim = new AdamW(params);
  optim.trainable.forEach((name, i) => {
    const m = optim.m.get(name)!;
    m.write(Float32Array.from({ length: m.numel }, (_, k) => ((k % 7) - 3) * 1e-3 + i * 1e-5));
    const v = optim.v.get(name)!;
    v.write(Float32Array.from({ length: v.numel }, (_, k) => (k % 5) * 1e-6 + i * 1e-8));
  });
  optim.step = 17;
  return { params, optim };
}

/** Rewrites a checkpoint with the raw writer after `change` edits its tensors. */
async function tamper(path: string, change: (t: Map<string, StTensor>) => void): Promise<void> {
  const { tensors, metadata } = await readSafetensors(path);
  change(tensors);
  await writeSafetensorsAtomic(path, tensors, metadata);
}

describe('training state checkpoints', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-state-'));
    path = join(dir, 'checkpoint-last.safetensors');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const files = () => readdir(dir);

  it('saves and resumes model, moments, step, epoch, settings and extra metadata', async () => {
    const { params, optim } = training();
    await saveTrainingState(path, params, optim, 2, meta, { extra: { host: 'box' } });
    assert.deepEqual((await readCheckpointInfo(path)).extra, { host: 'box' });
    const r = await loadTrainingState(path, config, optim.trainable);
    assert.deepEqual([r.step, r.epoch], [17, 2]);
    assert.deepEqual(r.meta, JSON.parse(JSON.stringify(meta)));
    for (const [name, t] of params.values) assert.deepEqual(r.state.get(name)!.data, await t.toArray(), name);
    const again = new AdamW(new ParamStore(r.state));
    restoreOptimizer(again, r);
    assert.equal(again.step, 17);
    for (const name of optim.trainable) {
      assert.deepEqual(await again.m.get(name)!.toArray(), await optim.m.get(name)!.toArray(), name);
      assert.deepEqual(await again.v.get(name)!.toArray(), await optim.v.get(name)!.toArray(), name);
    }
    assert.deepEqual(await files(), ['checkpoint-last.safetensors']);
  });

  it('does not save a NaN parameter: NonFiniteTensorError names it, the old file stays, no temp file', async () => {
    const { params, optim } = training();
    await saveTrainingState(path, params, optim, 1, meta);
    const before = await readFile(path);
    const w = await params.get(QKV).toArray();
    w[3] = Number.NaN;
    w[10] = Number.NaN;
    params.get(QKV).write(w);
    optim.step = 18;
    await assert.rejects(saveTrainingState(path, params, optim, 2, meta), (e: Error) => {
      assert.ok(e instanceof NonFiniteTensorError, String(e));
      assert.equal(
        e.message,
        `checkpoint ${path} not written: ${QKV} has 2 non-finite values (first: NaN at index 3)`,
      );
      assert.deepEqual([e.tensor, e.path, e.count, e.index], [QKV, path, 2, 3]);
      return true;
    });
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await files(), ['checkpoint-last.safetensors']);
  });

  it('does not save an infinite moment either', async () => {
    const { params, optim } = training();
    await saveTrainingState(path, params, optim, 1, meta);
    const before = await readFile(path);
    const v = optim.v.get('decoder_pred.bias')!;
    const bad = await v.toArray();
    bad[bad.length - 1] = Number.POSITIVE_INFINITY;
    v.write(bad);
    await assert.rejects(saveTrainingState(path, params, optim, 2, meta), (e: Error) => {
      assert.ok(e instanceof NonFiniteTensorError, String(e));
      assert.equal(e.tensor, 'optimizer.exp_avg_sq.decoder_pred.bias');
      assert.match(e.message, /has 1 non-finite value \(first: Inf at index \d+\)$/);
      return true;
    });
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await files(), ['checkpoint-last.safetensors']);
  });

  it('refuses to resume from a checkpoint with a non-finite value, naming the tensor', async () => {
    const { params, optim } = training();
    await saveTrainingState(path, params, optim, 1, meta);
    await tamper(path, (t) => {
      const d = t.get(QKV)!.data as Float32Array;
      d.fill(Number.POSITIVE_INFINITY, 5, 17);
    });
    await assert.rejects(loadTrainingState(path, config, optim.trainable), (e: Error) => {
      assert.ok(e instanceof NonFiniteTensorError, String(e));
      assert.equal(
        e.message,
        `checkpoint ${path}: ${QKV} has 12 non-finite values (first: Inf at index 5); refusing to resume from it`,
      );
      return true;
    });
    await saveTrainingState(path, params, optim, 1, meta);
    await tamper(path, (t) => {
      (t.get('optimizer.exp_avg.norm.weight')!.data as Float32Array)[0] = Number.NEGATIVE_INFINITY;
    });
    await assert.rejects(
      loadTrainingState(path, config, optim.trainable),
      /: optimizer\.exp_avg\.norm\.weight has 1 non-finite value \(first: -Inf at index 0\); refusing/,
    );
  });

  it('refuses truncated, mistyped, incomplete and other-architecture checkpoints clearly', async () => {
    const { params, optim } = training();
    const load = (model = config) => loadTrainingState(path, model, optim.trainable);
    await saveTrainingState(path, params, optim, 1, meta);
    await assert.rejects(
      load(preset('mae_tiny_32')),
      /^Error: checkpoint .* was made for another model: img_size 28 \(asked: 32\), in_chans 1 \(asked: 3\)$/,
    );
    await tamper(path, (t) =>
      t.set(QKV, stTensor('F64', t.get(QKV)!.shape, new Float64Array(t.get(QKV)!.data.length))),
    );
    await assert.rejects(load(), new RegExp(`checkpoint ${path}: ${QKV} is F64, expected F32`));
    await saveTrainingState(path, params, optim, 1, meta);
    await tamper(path, (t) => t.delete('optimizer.exp_avg_sq.cls_token'));
    await assert.rejects(load(), /: optimizer\.exp_avg_sq\.cls_token is missing/);
    await tamper(path, (t) => {
      t.delete('mask_token');
      t.set('head.weight', stTensor('F32', [1], new Float32Array(1)));
    });
    await assert.rejects(
      load(),
      /1 missing, 1 unexpected, 0 misshaped[\s\S]*missing: mask_token[\s\S]*unexpected: head\.weight/,
    );
    await saveTrainingState(path, params, optim, 1, meta);
    await truncate(path, (await stat(path)).size - 100);
    await assert.rejects(
      load(),
      /safetensors .*checkpoint-last\.safetensors: tensor ".*": data_offsets .* are not within the data section/,
    );
  });
});
