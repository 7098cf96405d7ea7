// Data parallelism on the CPU backend: 2 ranks (TCP collective, in this process) with batch B/2
// each give the losses and weights of 1 rank with batch B, with accumulation too, and with block
// and grid mask sampling (the masks of a global row do not depend on the rank count); rank 1 writes
// no files; ranks start from rank 0's weights.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { TcpCollective } from '../../src/dist/tcp.js';
import { pretrain } from '../../src/train/pretrain.js';
import { blobs, tinyRun } from '../train/helpers.js';

const data = blobs(96);
let port = 33500 + Math.floor(Math.random() * 1000);

async function twoRanks(overrides: Parameters<typeof tinyRun>[0], rank0: Parameters<typeof tinyRun>[0] = {}) {
  port += 1;
  const colls = await Promise.all(
    [0, 1].map((rank) =>
      TcpCollective.connect({ rank, world: 2, masterAddr: '127.0.0.1', masterPort: port }),
    ),
  );
  const runs = colls.map((collective) => ({
    ...tinyRun({ ...overrides, ...(collective.rank === 0 ? rank0 : {}) }),
    train: data,
    collective,
  }));
  const results = await Promise.all(runs.map((r) => pretrain(r)));
  for (const c of colls) c.close();
  return { results, dirs: runs.map((r) => r.config.output_dir) };
}

function relErr(x: Float32Array, y: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    d += (x[i]! - y[i]!) ** 2;
    n += x[i]! ** 2;
  }
  return Math.sqrt(d) / (Math.sqrt(n) + 1e-30);
}

describe('data parallel (CPU, 2 ranks)', function () {
  this.timeout(120000);

  for (const [accum, sampling] of [
    [1, 'random'],
    [2, 'random'],
    [1, 'block'],
    [2, 'grid'],
  ] as const)
    it(`2 ranks x batch 8${accum > 1 ? ' x accum 2' : ''} equal 1 rank x batch 16${accum > 1 ? ' x accum 2' : ''} (${sampling} masking)`, async () => {
      const one = await pretrain({
        ...tinyRun({ steps: 4, batch_size: 16, accum_iter: accum, mask_sampling: sampling }),
        train: data,
      });
      const { results, dirs } = await twoRanks({
        steps: 4,
        batch_size: 8,
        accum_iter: accum,
        mask_sampling: sampling,
      });
      const [r0, r1] = results as [typeof one, typeof one];
      assert.equal(r0.steps, 4);
      assert.deepEqual(r0.losses, r1.losses, 'every rank logs the same (reduced) loss');
      one.losses.forEach((l, i) =>
        assert.ok(Math.abs(l - r0.losses[i]!) <= 1e-5 * Math.abs(l), `step ${i}: ${l} vs ${r0.losses[i]}`),
      );
      // the same lr schedule: the effective batch is batch x accum x world in both
      assert.equal(r0.lr, one.lr);
      for (const name of one.optim.trainable) {
        if (name.endsWith('attn.qkv.bias')) continue; // zero-gradient key slice: rounding noise (see parity)
        const x = await one.model.params.get(name).toArray();
        const y0 = await r0.model.params.get(name).toArray();
        const y1 = await r1.model.params.get(name).toArray();
        assert.deepEqual(y0, y1, `${name}: the ranks agree exactly`);
        assert.ok(relErr(x, y0) <= 1e-4, `${name}: relative error ${relErr(x, y0)}`);
      }
      assert.ok(existsSync(`${dirs[0]}/checkpoint-last.safetensors`));
      assert.ok(!existsSync(dirs[1]!) || readdirSync(dirs[1]!).length === 0, 'rank 1 writes nothing');
    });

  it('a 1-rank checkpoint resumes on 2 ranks (only rank 0 reads it) as if never interrupted', async () => {
    const whole = await pretrain({ ...tinyRun({ steps: 4, batch_size: 16 }), train: data });
    const first = tinyRun({ steps: 2, batch_size: 16 });
    const a = await pretrain({ ...first, train: data });
    const { results } = await twoRanks(
      { steps: 4, batch_size: 8 },
      { resume: a.checkpoint, output_dir: first.config.output_dir },
    );
    const [r0, r1] = results as [typeof whole, typeof whole];
    assert.equal(r0.steps, 4);
    assert.equal(r1.steps, 4, 'rank 1 got the step from rank 0');
    assert.deepEqual(r1.losses, r0.losses);
    whole.losses
      .slice(2)
      .forEach((l, i) =>
        assert.ok(
          Math.abs(l - r0.losses[i]!) <= 1e-5 * Math.abs(l),
          `step ${i + 3}: ${l} vs ${r0.losses[i]}`,
        ),
      );
    for (const name of whole.optim.trainable) {
      if (name.endsWith('attn.qkv.bias')) continue;
      const x = await whole.model.params.get(name).toArray();
      assert.ok(relErr(x, await r1.model.params.get(name).toArray()) <= 1e-4, name);
    }
  });
});
