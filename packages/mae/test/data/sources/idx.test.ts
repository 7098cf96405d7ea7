// idx.test.ts: MNIST idx files, plain and gzipped, generated here: header checks (magic, sizes,
// label count), train split chosen over t10k, an images file given directly, raw 1-channel reads;
// and the Debian Fashion-MNIST files when the dataset-fashion-mnist package is installed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openIdx } from '../../../src/data/sources/idx.js';
import { DataError } from '../../../src/data/sources/types.js';

/** An idx3 images file of n rows x cols images whose pixel p of image i is (i * 7 + p) & 255. */
function images(n: number, rows: number, cols: number, magic = 0x803): Buffer {
  const b = Buffer.alloc(16 + n * rows * cols);
  b.writeUInt32BE(magic, 0);
  b.writeUInt32BE(n, 4);
  b.writeUInt32BE(rows, 8);
  b.writeUInt32BE(cols, 12);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < rows * cols; p++) b[16 + i * rows * cols + p] = (i * 7 + p) & 255;
  return b;
}

function labels(values: number[], magic = 0x801): Buffer {
  const b = Buffer.alloc(8 + values.length);
  b.writeUInt32BE(magic, 0);
  b.writeUInt32BE(values.length, 4);
  b.set(values, 8);
  return b;
}

const FASHION = '/usr/share/datasets/fashion-mnist';

describe('idx source', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'src-idx-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const gz of [false, true]) {
    it(`reads ${gz ? 'gzipped' : 'plain'} files, train split first`, async () => {
      const z = (b: Buffer) => (gz ? gzipSync(b) : b);
      const ext = gz ? '.gz' : '';
      writeFileSync(join(dir, `train-images-idx3-ubyte${ext}`), z(images(5, 3, 4)));
      writeFileSync(join(dir, `train-labels-idx1-ubyte${ext}`), z(labels([3, 0, 1, 3, 2])));
      writeFileSync(join(dir, `t10k-images-idx3-ubyte${ext}`), z(images(2, 3, 4)));
      writeFileSync(join(dir, `t10k-labels-idx1-ubyte${ext}`), z(labels([1, 1])));
      const s = await openIdx(dir);
      assert.equal(s.length, 5);
      assert.deepEqual(s.classes, ['0', '1', '2', '3']);
      assert.deepEqual(
        [0, 1, 2, 3, 4].map((i) => s.label(i)),
        [3, 0, 1, 3, 2],
      );
      const x = await s.read(4);
      assert.ok(x.kind === 'raw');
      assert.deepEqual([x.width, x.height, x.channels], [4, 3, 1]);
      assert.deepEqual(
        [...x.pixels],
        Array.from({ length: 12 }, (_, p) => (28 + p) & 255),
      );
      assert.equal(x.name, `${join(dir, `train-images-idx3-ubyte${ext}`)}#4`);
      assert.equal(s.spec.data !== undefined, gz);
      await s.close();
      const t = await openIdx(join(dir, `t10k-images-idx3-ubyte${ext}`));
      assert.equal(t.length, 2);
      assert.equal(t.label(0), 1);
      await t.close();
    });
  }

  it('without a labels file: one class ""', async () => {
    const f = join(dir, 'train-images.idx3-ubyte');
    writeFileSync(f, images(2, 2, 2));
    const s = await openIdx(f);
    assert.deepEqual(s.classes, ['']);
    assert.equal(s.label(1), 0);
  });

  it('refuses wrong magic, wrong sizes, label count mismatch, corrupt gzip, no images file', async () => {
    const img = join(dir, 'train-images-idx3-ubyte');
    const lab = join(dir, 'train-labels-idx1-ubyte');
    writeFileSync(img, images(3, 2, 2, 0x801));
    await assert.rejects(openIdx(dir), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.path, img);
      assert.match(e.message, /wrong magic number 0x00000801: an idx images file starts with 0x00000803/);
      return true;
    });
    writeFileSync(img, images(3, 2, 2).subarray(0, 20));
    await assert.rejects(openIdx(dir), /holds 20 bytes, but its header \(3 x 2 x 2\) needs 28/);
    writeFileSync(img, images(3, 2, 2));
    writeFileSync(lab, labels([1, 2]));
    await assert.rejects(openIdx(dir), /train-labels-idx1-ubyte: holds 2 labels for the 3 images/);
    writeFileSync(lab, labels([1, 2, 3], 0x803));
    await assert.rejects(openIdx(dir), /train-labels-idx1-ubyte: wrong magic number/);
    rmSync(lab);
    writeFileSync(`${lab}.gz`, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    await assert.rejects(openIdx(dir), /train-labels-idx1-ubyte\.gz: corrupt gzip data/);
    rmSync(img);
    await assert.rejects(openIdx(dir), /no idx images file/);
  });

  it('reads Debian Fashion-MNIST when installed', async function () {
    if (!existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'))) this.skip();
    const s = await openIdx(FASHION);
    assert.equal(s.length, 60000);
    assert.equal(s.classes.length, 10);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < s.length; i++) counts[s.label(i)]++;
    assert.deepEqual(counts, new Array(10).fill(6000));
    const x = await s.read(0);
    assert.ok(x.kind === 'raw' && x.width === 28 && x.height === 28 && x.pixels.length === 784);
    assert.ok(x.pixels.some((v) => v > 0));
  });
});
