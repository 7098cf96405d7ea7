// open.test.ts: openSource's format detection and its refusals before any work (missing path,
// empty folder, unknown file, unknown format), the format override, and reopenSource: a spec sent
// through a MessageChannel (as to a worker) reopens the same source with identical reads.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { detectFormat, openSource, reopenSource } from '../../../src/data/sources/open.js';
import { DataError, type ImageSource, type SourceSpec } from '../../../src/data/sources/types.js';
import { writeTar } from './make-tar.js';

function idxImages(n: number): Buffer {
  const b = Buffer.alloc(16 + n * 4, 9);
  b.writeUInt32BE(0x803, 0);
  b.writeUInt32BE(n, 4);
  b.writeUInt32BE(2, 8);
  b.writeUInt32BE(2, 12);
  return b;
}

/** The spec after a trip through structured cloning between ports, as a worker receives it. */
function viaChannel(spec: SourceSpec): Promise<SourceSpec> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (m) => {
      port1.close();
      resolve(m as SourceSpec);
    });
    port1.postMessage(spec);
  });
}

async function sameReads(a: ImageSource, b: ImageSource): Promise<void> {
  assert.equal(b.length, a.length);
  assert.deepEqual(b.classes, a.classes);
  for (let i = 0; i < a.length; i++) {
    assert.equal(b.label(i), a.label(i));
    assert.deepEqual(await b.read(i), await a.read(i));
  }
}

describe('openSource', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'src-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function make(): Record<string, string> {
    const p = {
      folder: join(dir, 'imgs'),
      tar: join(dir, 'shards'),
      idx: join(dir, 'mnist'),
      cifar: join(dir, 'cifar'),
    };
    for (const d of Object.values(p)) mkdirSync(d);
    mkdirSync(join(p.folder, 'cls'));
    writeFileSync(join(p.folder, 'cls', 'a.png'), 'a');
    writeFileSync(join(p.folder, 'cls', 'b.png'), 'b');
    writeTar(join(p.tar, 's-0.tar'), [
      { name: 'x.jpg', data: 'x' },
      { name: 'x.cls', data: '1' },
    ]);
    writeTar(join(p.tar, 's-1.tar'), [
      { name: 'y.jpg', data: 'y' },
      { name: 'y.cls', data: '0' },
    ]);
    writeFileSync(join(p.idx, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(3)));
    writeFileSync(join(p.cifar, 'data_batch_1.bin'), Buffer.alloc(3073 * 2, 4));
    return p;
  }

  it('detects each format from the path', async () => {
    const p = make();
    for (const [format, path] of Object.entries(p)) assert.equal(await detectFormat(path), format);
    assert.equal(await detectFormat(join(p.tar, 's-{0..1}.tar')), 'tar');
    assert.equal(await detectFormat(join(p.tar, 's-0.tar')), 'tar');
    assert.equal(await detectFormat(join(p.idx, 'train-images-idx3-ubyte.gz')), 'idx');
    assert.equal(await detectFormat(join(p.cifar, 'data_batch_1.bin')), 'cifar');
    const s = await openSource(join(p.tar, 's-{0..1}.tar'));
    assert.equal(s.format, 'tar');
    assert.equal(s.length, 2);
    await s.close();
  });

  it('reopenSource(spec) after a structured clone gives identical reads, for every format', async () => {
    const p = make();
    for (const path of Object.values(p)) {
      const a = await openSource(path);
      const b = await reopenSource(await viaChannel(a.spec));
      assert.equal(b.format, a.format);
      assert.equal(b.path, a.path);
      await sameReads(a, b);
      await a.close();
      await b.close();
    }
  });

  it('reopenSource(spec, { transient }) reads the same bytes into one buffer reused from read to read', async () => {
    const p = make();
    for (const path of [p.folder, p.tar]) {
      const a = await openSource(path);
      const b = await reopenSource(a.spec, { transient: true });
      await sameReads(a, b);
      const first = (await b.read(0)) as { bytes: Uint8Array };
      const second = (await b.read(1)) as { bytes: Uint8Array };
      assert.equal(first.bytes.buffer, second.bytes.buffer, `${path}: one buffer`);
      assert.deepEqual(first.bytes, second.bytes, `${path}: the second read overwrote the first`);
      await a.close();
      await b.close();
    }
  });

  it('format overrides detection', async () => {
    const p = make();
    writeFileSync(join(p.cifar, 'pic.png'), 'p');
    const s = await openSource(p.cifar, 'folder');
    assert.equal(s.format, 'folder');
    assert.equal(s.length, 1);
    await assert.rejects(openSource(p.folder, 'cifar'), /imgs: no CIFAR batches/);
    await assert.rejects(openSource(p.folder, 'png' as never), /unknown data format "png"/);
  });

  it('refuses a missing path, an empty folder, an unknown file, a non-folder as folder', async () => {
    await assert.rejects(openSource(join(dir, 'nope')), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.path, join(dir, 'nope'));
      assert.match(e.message, /nope: does not exist \(ENOENT/);
      return true;
    });
    await assert.rejects(openSource(dir), /no images found/);
    writeFileSync(join(dir, 'data.csv'), 'a,b');
    await assert.rejects(openSource(join(dir, 'data.csv')), /data\.csv: is a file but not a \.tar shard/);
    await assert.rejects(openSource(join(dir, 'data.csv'), 'folder'), /data\.csv: is not a folder/);
    await assert.rejects(openSource(join(dir, 'x-{0..1}.tar')), /x-0\.tar: shard missing: 2 of the 2 shards/);
    await assert.rejects(
      reopenSource({ format: 'zip', path: 'p' } as never),
      /p: unknown source format "zip"/,
    );
  });
});
