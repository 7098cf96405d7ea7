// streamed.test.ts: pretraining from images on disk (a generated folder of PNGs): the batch
// loader's uint8 batches normalised on the device; the same losses with 1 or 2 loader workers and
// on the whole-step and eager paths; 2 ranks of B equal 1 rank of 2B; exact resume; bad files
// counted in log.jsonl.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { StreamedImages, type StreamedOptions } from '../../src/data/pipeline/streamed.js';
import type { Collective } from '../../src/dist/collective.js';
import { TcpCollective } from '../../src/dist/tcp.js';
import { pretrain } from '../../src/train/pretrain.js';
import { tinyRun } from './helpers.js';

/** n smooth RGB blobs of 24x20 as PNGs in two classes; `broken` adds a zero-byte file. */
async function pngFolder(n: number, broken = false): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mae-streamed-'));
  for (const c of ['x', 'y']) mkdirSync(join(dir, c));
  for (let i = 0; i < n; i++) {
    const [w, h] = [24, 20];
    const raw = Buffer.alloc(w * h * 3);
    const [cx, cy] = [(i * 7) % w, (i * 5) % h];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++)
          raw[(y * w + x) * 3 + c] = Math.round(
            255 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (20 + 10 * c)),
          );
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, i % 2 ? 'y' : 'x', `${String(i).padStart(3, '0')}.png`), png);
  }
  if (broken) writeFileSync(join(dir, 'x', '000.png'), Buffer.alloc(0));
  return dir;
}

const RGB16 = { model: 'mae_tiny_32' as const, input_size: 16 };

async function run(
  dir: string,
  over: Partial<StreamedOptions>,
  cfg: Parameters<typeof tinyRun>[0] = {},
  collective?: Collective,
) {
  const { config, model } = tinyRun({ ...RGB16, ...cfg });
  const images = await StreamedImages.open({
    path: dir,
    inputSize: model.img_size,
    channels: model.in_chans as 1 | 3,
    seed: config.seed,
    batch: config.batch_size,
    workers: 1,
    prefetch: 2,
    badData: 'skip',
    ...over,
  });
  try {
    return await pretrain({ config, model, train: images, ...(collective ? { collective } : {}) });
  } finally {
    await images.close();
  }
}

describe('pretraining from images on disk', function () {
  this.timeout(120000);
  let dir: string;
  before(async () => {
    dir = await pngFolder(48);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trains, with the same losses whatever the number of loader workers', async () => {
    const a = await run(dir, { workers: 1 }, { steps: 5 });
    const b = await run(dir, { workers: 2 }, { steps: 5 });
    assert.equal(a.losses.length, 5);
    assert.ok(a.losses.every(Number.isFinite));
    assert.deepEqual(b.losses, a.losses);
    const line = JSON.parse(readFileSync(join(a.outputDir, 'log.jsonl'), 'utf8').trim().split('\n')[0]!);
    assert.equal(line.bad_samples, 0);
    assert.equal(typeof line.data_wait_s, 'number');
    assert.ok(line.loader_images_per_s > 0, JSON.stringify(line));
  });

  it('the eager path (accumulation) sees the same images as the whole step', async () => {
    const one = await run(dir, {}, { steps: 3, batch_size: 16 });
    const two = await run(dir, {}, { steps: 3, batch_size: 8, accum_iter: 2 });
    one.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - two.losses[i]!) <= 1e-5 * l, `${l} vs ${two.losses[i]}`),
    );
  });

  it('resumes with exactly the losses of an uninterrupted run', async () => {
    const full = await run(dir, {}, { steps: 6 });
    const first = await run(dir, {}, { steps: 2 });
    const rest = await run(dir, {}, { steps: 6, resume: first.checkpoint, output_dir: first.outputDir });
    assert.deepEqual([...first.losses, ...rest.losses], full.losses);
  });

  it('2 ranks of batch 8 see the images of 1 rank of batch 16: the same losses', async () => {
    const one = await run(dir, {}, { steps: 3, batch_size: 16 });
    const port = 34600 + Math.floor(Math.random() * 1000);
    const colls = await Promise.all(
      [0, 1].map((rank) =>
        TcpCollective.connect({ rank, world: 2, masterAddr: '127.0.0.1', masterPort: port }),
      ),
    );
    try {
      const two = await Promise.all(
        colls.map((collective) =>
          run(dir, { workers: collective.rank + 1 }, { steps: 3, batch_size: 8 }, collective),
        ),
      );
      one.losses.forEach((l, i) =>
        assert.ok(Math.abs(l - two[0]!.losses[i]!) <= 1e-5 * l, `step ${i}: ${l} vs ${two[0]!.losses[i]}`),
      );
      assert.deepEqual(two[1]!.losses, two[0]!.losses);
    } finally {
      for (const c of colls) c.close();
    }
  });

  it('counts a bad file in log.jsonl and trains on', async () => {
    const bad = await pngFolder(48, true);
    try {
      const r = await run(bad, {}, { steps: 3 });
      const line = JSON.parse(readFileSync(join(r.outputDir, 'log.jsonl'), 'utf8').trim().split('\n')[0]!);
      assert.ok(line.bad_samples >= 1, JSON.stringify(line));
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
