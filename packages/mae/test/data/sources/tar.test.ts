// tar.test.ts: WebDataset tar shards: brace expansion, our tar reader against hand-made headers
// and GNU tar's own archives (long names, pax, folders, links), key grouping and .cls labels,
// positional reads, missing shards, truncated and corrupt shards.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { braceExpand, hasBraces } from '../../../src/data/sources/braces.js';
import { openTar, splitKey } from '../../../src/data/sources/tar.js';
import { indexTar } from '../../../src/data/sources/tar-index.js';
import { DataError } from '../../../src/data/sources/types.js';
import { tarBytes, writeTar } from './make-tar.js';

describe('braceExpand', () => {
  it('expands zero-padded ranges, comma lists, several and nested groups', () => {
    assert.deepEqual(braceExpand('s-{0000..0003}.tar'), [
      's-0000.tar',
      's-0001.tar',
      's-0002.tar',
      's-0003.tar',
    ]);
    assert.deepEqual(braceExpand('{8..11}'), ['8', '9', '10', '11']);
    assert.deepEqual(braceExpand('{3..1}'), ['3', '2', '1']);
    assert.deepEqual(braceExpand('{a,b}/{0..1}.tar'), ['a/0.tar', 'a/1.tar', 'b/0.tar', 'b/1.tar']);
    assert.deepEqual(braceExpand('x{a,{1..2}}y'), ['xay', 'x1y', 'x2y']);
    assert.deepEqual(braceExpand('{x}-{0..1}'), ['{x}-0', '{x}-1']);
    assert.deepEqual(braceExpand('no{close'), ['no{close']);
    assert.equal(hasBraces('a/{0..9}.tar'), true);
    assert.equal(hasBraces('a/{x}.tar'), false);
  });
});

describe('tar reader', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'src-tar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists regular members with GNU long names, skipping folders and links', async () => {
    const long = `${'d'.repeat(120)}/${'n'.repeat(150)}.jpg`;
    const f = join(dir, 'a.tar');
    writeTar(f, [
      { name: 'dir/', type: '5' },
      { name: 'dir/a.jpg', data: 'A'.repeat(700) },
      { name: 'dir/link.jpg', type: '2' },
      { name: long, data: 'L' },
      { name: 'short.cls', data: '7', longName: true },
    ]);
    const m = await indexTar(f, (n) => n.endsWith('.cls'));
    assert.deepEqual(
      m.map((x) => [x.name, x.size]),
      [
        ['dir/a.jpg', 700],
        [long, 1],
        ['short.cls', 1],
      ],
    );
    assert.equal(
      readFileSync(f)
        .subarray(m[1]!.offset, m[1]!.offset + 1)
        .toString(),
      'L',
    );
    assert.equal(m[2]!.data?.toString(), '7');
    assert.equal(m[0]!.data, undefined);
  });

  for (const format of ['gnu', 'posix', 'ustar']) {
    it(`reads what GNU tar --format=${format} writes`, async () => {
      const src = join(dir, 'src');
      const deep = format === 'ustar' ? 'p'.repeat(90) : 'p'.repeat(130);
      mkdirSync(join(src, deep), { recursive: true });
      writeFileSync(join(src, deep, `${'k'.repeat(60)}.jpg`), 'JPEG!');
      writeFileSync(join(src, 'big.png'), Buffer.alloc(5000, 7));
      const f = join(dir, 'g.tar');
      execFileSync('tar', [`--format=${format}`, '-cf', f, '-C', src, '.']);
      const m = await indexTar(f);
      const byName = new Map(m.map((x) => [x.name.replace(/^\.\//, ''), x]));
      assert.deepEqual([...byName.keys()].sort(), ['big.png', `${deep}/${'k'.repeat(60)}.jpg`]);
      const j = byName.get(`${deep}/${'k'.repeat(60)}.jpg`)!;
      assert.equal(
        readFileSync(f)
          .subarray(j.offset, j.offset + j.size)
          .toString(),
        'JPEG!',
      );
    });
  }

  it('names the shard and member of a truncated or corrupt shard', async () => {
    const f = join(dir, 't.tar');
    writeTar(f, [
      { name: 'a.jpg', data: 'x'.repeat(600) },
      { name: 'b.jpg', data: 'y'.repeat(3000) },
    ]);
    truncateSync(f, 512 + 1024 + 512 + 1000);
    await assert.rejects(indexTar(f), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.path, f);
      assert.match(e.message, /t\.tar: truncated: member b\.jpg needs 3000 bytes/);
      return true;
    });
    truncateSync(f, 512 + 1024 + 100);
    await assert.rejects(indexTar(f), /truncated: the file ends inside the header after a\.jpg/);
    writeFileSync(f, Buffer.alloc(2048, 65));
    await assert.rejects(indexTar(f), /t\.tar: corrupt tar header at byte 0 .*not a tar file/);
  });
});

describe('tar source', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'src-tar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function shard(n: number, samples: Array<[string, number | undefined]>): string {
    const f = join(dir, `train-${String(n).padStart(4, '0')}.tar`);
    writeTar(
      f,
      samples.flatMap(([key, cls]) => [
        { name: `${key}.json`, data: '{}' },
        { name: `${key}.jpg`, data: `image ${key}` },
        ...(cls === undefined ? [] : [{ name: `${key}.cls`, data: `${cls}\n` }]),
      ]),
    );
    return f;
  }

  it('splits member names into key and extension as WebDataset', () => {
    assert.deepEqual(splitKey('a/b.c/x.seg.png'), { key: 'a/b.c/x', ext: 'seg.png' });
    assert.deepEqual(splitKey('x.JPG'), { key: 'x', ext: 'jpg' });
    assert.equal(splitKey('a/.hidden'), undefined);
    assert.equal(splitKey('noext'), undefined);
  });

  it('groups samples across brace-expanded shards with numerically sorted classes', async () => {
    shard(0, [
      ['s/000', 10],
      ['s/001', 2],
    ]);
    shard(1, [['s/002', 10]]);
    shard(2, [['s/003', 9]]);
    const src = await openTar(join(dir, 'train-{0000..0002}.tar'));
    assert.equal(src.length, 4);
    assert.deepEqual(src.classes, ['2', '9', '10']);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => src.label(i)),
      [2, 0, 2, 1],
    );
    const x = await src.read(2);
    assert.equal(x.kind === 'encoded' && Buffer.from(x.bytes).toString(), 'image s/002');
    assert.equal(x.name, `${join(dir, 'train-0001.tar')}:s/002.jpg`);
    await src.close();
    const all = await openTar(dir); // the folder of shards
    assert.equal(all.length, 4);
    await all.close();
  });

  it('one class "" without .cls; prefers .jpg over .png for one key; skips keys without an image', async () => {
    const f = join(dir, 'one.tar');
    writeTar(f, [
      { name: 'k1.png', data: 'png' },
      { name: 'k1.jpg', data: 'jpg' },
      { name: 'k2.txt', data: 'caption only' },
      { name: 'k3.webp', data: 'webp' },
    ]);
    const src = await openTar(f);
    assert.deepEqual(src.classes, ['']);
    assert.equal(src.length, 2);
    const a = await src.read(0);
    assert.equal(a.kind === 'encoded' && Buffer.from(a.bytes).toString(), 'jpg');
    assert.equal(src.label(1), 0);
    await src.close();
  });

  it('refuses a missing shard, a bad .cls, partial .cls, no images, and a shard cut after indexing', async () => {
    shard(0, [['a', 1]]);
    shard(2, [['b', 1]]);
    await assert.rejects(openTar(join(dir, 'train-{0000..0002}.tar')), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.path, join(dir, 'train-0001.tar'));
      assert.match(e.message, /shard missing: 1 of the 3 shards/);
      return true;
    });
    writeTar(join(dir, 'train-0001.tar'), [{ name: 'c.jpg', data: 'c' }]);
    await assert.rejects(openTar(dir), /train-0001\.tar:c has no \.cls member while others/);
    writeTar(join(dir, 'train-0001.tar'), [
      { name: 'c.jpg', data: 'c' },
      { name: 'c.cls', data: 'cat' },
    ]);
    await assert.rejects(
      openTar(dir),
      /train-0001\.tar: member c\.cls: expected a decimal class index, found "cat"/,
    );
    writeFileSync(join(dir, 'train-0001.tar'), tarBytes([{ name: 'c.txt', data: 'c' }]));
    const src = await openTar(dir);
    truncateSync(join(dir, 'train-0002.tar'), 600);
    await assert.rejects(
      src.read(1),
      /train-0002\.tar \(sample 1\): truncated: member b\.jpg needs 7 bytes at byte 1536, got 0/,
    );
    await src.close();
    const empty = join(dir, 'empty.tar');
    writeTar(empty, [{ name: 'x.txt', data: 'x' }]);
    await assert.rejects(openTar(empty), /empty\.tar: no images in 1 shard/);
  });
});
