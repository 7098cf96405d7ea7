// state_large.test.ts: a real ViT-L training state (mae_vit_large_patch16's widths and depths,
// on 32x32 images so init is quick): model and AdamW moments make a ~3.7 GiB checkpoint, past
// Node's 2 GiB readFile limit. It is saved (streamed from the store, one tensor at a time) and
// resumed, every tensor compared byte for byte, with the memory the save and the load add
// measured: the save holds about one tensor at a time, the load about the file's size.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { preset } from '../../src/config/presets.js';
import { initialState } from '../../src/init/state.js';
import { ParamStore } from '../../src/model/params.js';
import { AdamW } from '../../src/optim/adamw.js';
import { loadTrainingState, saveTrainingState } from '../../src/train/state.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Runs fn, sampling the resident set size; returns fn's result and the peak rise over the start. */
async function peakRise<T>(fn: () => Promise<T>): Promise<{ value: T; rise: number; seconds: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const t0 = Date.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, rise: peak - start, seconds: (Date.now() - t0) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('a ViT-L training state (~3.7 GiB)', function () {
  this.timeout(900_000);
  let dir: string;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'mae-state-large-'));
    const { bavail, bsize } = await statfs(dir);
    const reasons = [
      bavail * bsize < 10 * GiB && `${((bavail * bsize) / GiB).toFixed(1)} GiB free on disk, this needs 10`,
      freemem() < 12 * GiB && `${(freemem() / GiB).toFixed(1)} GiB of memory free, this needs 12`,
    ].filter(Boolean);
    if (reasons.length > 0) {
      console.log(`    (skipped: ${reasons.join('; ')})`);
      this.skip();
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('saves and resumes it streamed, every tensor equal, the memory bounded', async () => {
    const model = preset('mae_vit_large_patch16', { img_size: 32 });
    const t0 = Date.now();
    const params = new ParamStore(initialState(model, 1));
    const optim = new AdamW(params);
    optim.trainable.forEach((name, i) => {
      optim.m.get(name)!.write(new Float32Array(optim.m.get(name)!.numel).fill(1e-3 + i * 1e-6));
      optim.v.get(name)!.write(new Float32Array(optim.v.get(name)!.numel).fill(1e-6 + i * 1e-9));
    });
    optim.step = 1234;
    const setup = (Date.now() - t0) / 1000;
    const path = join(dir, 'checkpoint-last.safetensors');

    const save = await peakRise(() => saveTrainingState(path, params, optim, 3, { model }));
    const size = (await stat(path)).size;
    assert.ok(size > 3.6 * GiB && size < 4 * GiB, `${(size / GiB).toFixed(2)} GiB`);
    assert.deepEqual(await readdir(dir), ['checkpoint-last.safetensors']);

    const load = await peakRise(() => loadTrainingState(path, model, optim.trainable));
    const r = load.value;
    assert.deepEqual([r.step, r.epoch], [1234, 3]);
    const t1 = Date.now();
    for (const [name, t] of params.values) {
      assert.ok(bytes(r.state.get(name)!.data).equals(bytes(await t.toArray())), name);
    }
    for (const name of optim.trainable) {
      assert.ok(bytes(r.m.get(name)!).equals(bytes(await optim.m.get(name)!.toArray())), `exp_avg.${name}`);
      assert.ok(
        bytes(r.v.get(name)!).equals(bytes(await optim.v.get(name)!.toArray())),
        `exp_avg_sq.${name}`,
      );
    }
    const compare = (Date.now() - t1) / 1000;
    console.log(
      `    (${(size / GiB).toFixed(2)} GiB; setup ${setup.toFixed(1)} s; save ${save.seconds.toFixed(1)} s, ` +
        `+${(save.rise / MiB).toFixed(0)} MiB; load ${load.seconds.toFixed(1)} s, ` +
        `+${(load.rise / MiB).toFixed(0)} MiB; compare ${compare.toFixed(1)} s)`,
    );
    // the save streams: far less than the file; the load holds the file's tensors and little more
    assert.ok(save.rise < 1 * GiB, `the save added ${(save.rise / MiB).toFixed(0)} MiB`);
    assert.ok(load.rise < size + 1 * GiB, `the load added ${(load.rise / MiB).toFixed(0)} MiB`);
  });
});
