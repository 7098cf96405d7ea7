// cifar.test.ts: CIFAR-10 and CIFAR-100 binary batches generated here: records round trip from
// CHW to HWC, labels across batches (the fine label for CIFAR-100), class names from the meta
// files, and errors for ragged files, out-of-range labels and wrong name lists.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCifar } from '../../../src/data/sources/cifar.js';
import { DataError } from '../../../src/data/sources/types.js';

/** The HWC pixels of test image `seed`: pixel (y, x) channel c. */
function hwc(seed: number): Uint8Array {
  const out = new Uint8Array(32 * 32 * 3);
  for (let p = 0; p < 1024; p++)
    for (let c = 0; c < 3; c++) out[p * 3 + c] = (seed * 31 + p * 3 + c * 101) & 255;
  return out;
}

/** CIFAR records: label bytes, then the image as R, G, B planes. */
function records(items: Array<{ labels: number[]; seed: number }>): Buffer {
  return Buffer.concat(
    items.map(({ labels, seed }) => {
      const img = hwc(seed);
      const planes = new Uint8Array(3072);
      for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) planes[c * 1024 + p] = img[p * 3 + c]!;
      return Buffer.concat([Buffer.from(labels), planes]);
    }),
  );
}

describe('cifar source', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'src-cifar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('CIFAR-10: batches in numeric order, HWC pixels, names from batches.meta.txt', async () => {
    writeFileSync(join(dir, 'data_batch_2.bin'), records([{ labels: [9], seed: 2 }]));
    writeFileSync(
      join(dir, 'data_batch_1.bin'),
      records([
        { labels: [3], seed: 0 },
        { labels: [5], seed: 1 },
      ]),
    );
    writeFileSync(join(dir, 'test_batch.bin'), records([{ labels: [0], seed: 9 }]));
    const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
    writeFileSync(join(dir, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
    const s = await openCifar(dir);
    assert.equal(s.length, 3);
    assert.deepEqual(s.classes, names);
    assert.deepEqual(
      [0, 1, 2].map((i) => s.label(i)),
      [3, 5, 9],
    );
    for (const i of [0, 1, 2]) {
      const x = await s.read(i);
      assert.ok(x.kind === 'raw' && x.channels === 3 && x.width === 32 && x.height === 32);
      assert.deepEqual(x.pixels, hwc(i));
    }
    assert.equal((await s.read(2)).name, `${join(dir, 'data_batch_2.bin')}#0`);
    await s.close();
  });

  it('CIFAR-100: train.bin with the fine label, classes 0..99 without fine_label_names.txt', async () => {
    writeFileSync(
      join(dir, 'train.bin'),
      records([
        { labels: [4, 72], seed: 5 },
        { labels: [19, 99], seed: 6 },
      ]),
    );
    writeFileSync(join(dir, 'test.bin'), records([{ labels: [0, 1], seed: 7 }]));
    const s = await openCifar(dir);
    assert.equal(s.length, 2);
    assert.equal(s.classes.length, 100);
    assert.equal(s.classes[72], '72');
    assert.deepEqual([s.label(0), s.label(1)], [72, 99]);
    const x = await s.read(1);
    assert.deepEqual(x.kind === 'raw' && x.pixels, hwc(6));
    await s.close();
  });

  it('refuses ragged files, labels out of range, a wrong name list, a folder without batches', async () => {
    const f = join(dir, 'data_batch_1.bin');
    writeFileSync(f, records([{ labels: [1], seed: 0 }]).subarray(0, 3000));
    await assert.rejects(openCifar(dir), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.path, f);
      assert.match(e.message, /holds 3000 bytes, not a whole number of 3073-byte CIFAR-10 records/);
      return true;
    });
    writeFileSync(
      f,
      records([
        { labels: [1], seed: 0 },
        { labels: [12], seed: 1 },
      ]),
    );
    await assert.rejects(
      openCifar(dir),
      /data_batch_1\.bin \(sample 1\): record 1 has label 12, CIFAR-10 has 10 classes/,
    );
    writeFileSync(f, records([{ labels: [1], seed: 0 }]));
    writeFileSync(join(dir, 'batches.meta.txt'), 'cat\ndog\n');
    await assert.rejects(openCifar(dir), /batches\.meta\.txt: lists 2 class names, CIFAR-10 has 10/);
    rmSync(f);
    await assert.rejects(openCifar(dir), /no CIFAR batches/);
  });
});
