// loader.test.ts: the batch loader on a generated ImageFolder of PNGs: a batch's bytes depend only
// on (seed, epoch, indices), whatever the number of workers; the prefetcher hands batches over in
// order; a bad file is replaced by the next sample (skip) and named, or stops the batch naming it
// (fail); an unreadable source fails at start.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { AugmentConfig } from '../../../src/data/augment/index.js';
import { BatchLoader, type LoaderConfig, Prefetcher, split } from '../../../src/data/pipeline/index.js';
import { openSource } from '../../../src/data/sources/index.js';

const AUG: AugmentConfig = {
  inputSize: 16,
  channels: 3,
  scale: [0.2, 1],
  ratio: [3 / 4, 4 / 3],
  flip: true,
  maxPixels: 1e7,
};

/** n PNGs of 40x30 in two classes, each with its own colours, and one zero-byte file if asked. */
async function imageFolder(n: number, broken = false): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mae-loader-'));
  for (const c of ['a', 'b']) mkdirSync(join(dir, c));
  for (let i = 0; i < n; i++) {
    const raw = Buffer.alloc(40 * 30 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) + i * 17) % 256;
    const png = await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, i % 2 ? 'b' : 'a', `img${String(i).padStart(3, '0')}.png`), png);
  }
  if (broken) writeFileSync(join(dir, 'a', 'img000.png'), Buffer.alloc(0));
  return dir;
}

async function withLoader<T>(dir: string, over: Partial<LoaderConfig>, fn: (l: BatchLoader) => Promise<T>) {
  const source = await openSource(dir);
  const loader = await BatchLoader.start({
    spec: source.spec,
    augment: AUG,
    seed: 5,
    workers: 1,
    batch: 8,
    buffers: 3,
    badData: 'skip',
    ...over,
  });
  try {
    return await fn(loader);
  } finally {
    await loader.close();
    await source.close();
  }
}

describe('BatchLoader', function () {
  this.timeout(60000);
  let dir: string;
  before(async () => {
    dir = await imageFolder(12);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same bytes for (seed, epoch, indices) with 1, 2 and 4 workers', async () => {
    const indices = [7, 0, 11, 3, 5, 2, 9];
    const got: Buffer[] = [];
    for (const workers of [1, 2, 4])
      got.push(
        await withLoader(dir, { workers }, async (l) => {
          const b = await l.load(2, indices);
          const copy = Buffer.from(b.pixels);
          b.release();
          return copy;
        }),
      );
    assert.equal(got[0]!.length, 7 * 16 * 16 * 3);
    assert.ok(got[1]!.equals(got[0]!) && got[2]!.equals(got[0]!), 'the worker count changed the bytes');
    // another epoch crops differently (the test can fail)
    const other = await withLoader(dir, {}, async (l) => Buffer.from((await l.load(3, indices)).pixels));
    assert.ok(!other.equals(got[0]!));
  });

  it('prefetches an epoch in order, with at most `buffers` batches held', async () => {
    // 2 decoding ahead + 1 taken + 1 loaded directly for the comparison
    await withLoader(dir, { workers: 2, buffers: 4 }, async (l) => {
      assert.throws(() => new Prefetcher(l, 1, [], 4), /depth 4 needs 1 to 3/);
      const batches = [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
      ];
      const feed = new Prefetcher(l, 1, batches, 2);
      for (const idx of batches) {
        const b = await feed.take();
        const want = await l.load(1, idx);
        assert.ok(Buffer.from(b.pixels).equals(Buffer.from(want.pixels)));
        b.release();
        want.release();
      }
      await assert.rejects(feed.take(), /no batch left/);
    });
  });

  it('replaces a bad file by the next sample and names it, or stops naming it', async () => {
    const bad = await imageFolder(6, true);
    try {
      await withLoader(bad, { workers: 2 }, async (l) => {
        const b = await l.load(0, [0, 1, 2]);
        assert.equal(b.bad.length, 1);
        assert.match(b.bad[0]!.name, /img000\.png$/);
        assert.equal(b.bad[0]!.index, 0);
        assert.equal(b.bad[0]!.replacement, 1);
      });
      await withLoader(bad, { badData: 'fail' }, async (l) => {
        await assert.rejects(l.load(0, [1, 0]), /img000\.png/);
        const ok = await l.load(0, [1, 2]); // the loader goes on after a failed batch
        assert.equal(ok.bad.length, 0);
      });
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('split gives contiguous runs that differ by at most one', () => {
    assert.deepEqual(split([1, 2, 3, 4, 5], 3), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(split([1], 3), [[1], [], []]);
  });
});
