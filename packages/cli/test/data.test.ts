// data.test.ts: `mae-cuda data` on sources made here: an image folder of PNG and JPEG images in two
// classes with a zero-byte file and a text file named .jpg among them, a tar shard and a CIFAR
// batch; checks the printed counts, the bad files named, the exit codes, --check and the JSON.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ScanProgress } from '../src/data/progress.js';
import type { DataReport } from '../src/data/scan.js';
import { channelKind, formatReport, planCheck, sizeBucket } from '../src/data/scan.js';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'data', ...args], { encoding: 'utf8', timeout: 60000 });

const image = (w: number, h: number, channels: 1 | 3 | 4) =>
  channels === 1
    ? sharp(Buffer.alloc(w * h, 128), { raw: { width: w, height: h, channels } }).toColourspace('b-w')
    : sharp({ create: { width: w, height: h, channels, background: { r: 200, g: 30, b: 90 } } });

/** A ustar archive of (name, bytes) members. */
function tar(members: [string, Uint8Array][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of members) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\x0000', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('mae-cuda data', () => {
  let root: string;
  let folder: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mae-data-'));
    folder = join(root, 'images');
    mkdirSync(join(folder, 'cat'), { recursive: true });
    mkdirSync(join(folder, 'dog'), { recursive: true });
    await image(100, 50, 3)
      .png()
      .toFile(join(folder, 'cat', 'a.png')); // short side 50, rgb
    await image(300, 200, 4)
      .png()
      .toFile(join(folder, 'cat', 'b.png')); // 200, rgba
    await image(64, 80, 3)
      .jpeg()
      .toFile(join(folder, 'cat', 'c.jpg')); // 64, rgb
    writeFileSync(join(folder, 'cat', 'empty.jpg'), '');
    await image(600, 1200, 1)
      .jpeg()
      .toFile(join(folder, 'dog', 'd.jpg')); // 600, grey
    writeFileSync(join(folder, 'dog', 'notes.jpg'), 'this is not an image\n');
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('reports an image folder: classes, formats, sizes, channels and the bad files (exit 1)', () => {
    const r = run(folder);
    assert.equal(r.status, 1, r.stderr);
    const out = r.stdout;
    assert.match(out, /^format: folder \(detected\)$/m);
    assert.match(out, /^samples: 6 in 2 classes$/m);
    assert.match(out, /^ {2}cat +4$/m);
    assert.match(out, /^ {2}dog +2$/m);
    assert.match(out, /^checked: all 6 samples \(image headers only\)$/m);
    assert.match(out, /^formats: jpeg 2, png 2$/m);
    assert.match(out, /^short side: <64 1, 64-127 1, 128-255 1, 512-1023 1$/m);
    assert.match(out, /^channels: rgb 2, grey 1, rgba 1$/m);
    assert.match(out, /^bad \(unreadable or bad header\): 2 of 6 checked:$/m);
    assert.match(out, /^ {2}#3 cat\/empty\.jpg: the file is empty \(0 bytes\)$/m);
    assert.match(out, /^ {2}#5 dog\/notes\.jpg: .+$/m);
  });

  it('writes the same report as JSON with --json FILE', () => {
    const file = join(root, 'report.json');
    const r = run(folder, '--json', file);
    assert.equal(r.status, 1, r.stderr);
    const j = JSON.parse(readFileSync(file, 'utf8')) as DataReport;
    assert.equal(j.format, 'folder');
    assert.equal(j.detected, true);
    assert.equal(j.samples, 6);
    assert.deepEqual(j.classes, {
      count: 2,
      samples: [
        { name: 'cat', samples: 4 },
        { name: 'dog', samples: 2 },
      ],
    });
    assert.deepEqual(j.check, { mode: 'all', checked: 6, of: 6 });
    assert.deepEqual(j.formats, { jpeg: 2, png: 2 });
    assert.deepEqual(j.sizes, { '<64': 1, '64-127': 1, '128-255': 1, '512-1023': 1 });
    assert.deepEqual(j.channels, { rgb: 2, grey: 1, rgba: 1 });
    assert.equal(j.bad.count, 2);
    assert.deepEqual(
      j.bad.first.map((b) => [b.index, b.name]),
      [
        [3, 'cat/empty.jpg'],
        [5, 'dog/notes.jpg'],
      ],
    );
    assert.equal(j.ok, false);
  });

  it('--check N checks the first N, and exits 0 when they are all readable', () => {
    const r = run(folder, '--check', '3');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^checked: the first 3 of 6 samples .*--check all/m);
    assert.match(r.stdout, /^bad \(unreadable or bad header\): none of 3 checked$/m);
    assert.equal(run(folder, '--check', 'all').status, 1);
  });

  it('exits 2 for a source that cannot be opened or bad arguments', () => {
    const missing = run(join(root, 'nope'));
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^mae-cuda data: .*nope: does not exist/);
    assert.equal(missing.stderr.trim().split('\n').length, 1);

    const notIdx = run(folder, '--data-format', 'idx');
    assert.equal(notIdx.status, 2);
    assert.match(notIdx.stderr, /^mae-cuda data: /);

    for (const args of [
      [folder, '--check', 'some'],
      [folder, '--check', '-1'],
      [folder, '--data-format', 'zip'],
      [folder, '--json'],
      [],
    ]) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, /usage: mae-cuda data/, args.join(' '));
    }
  });

  it('reports a tar shard, its .cls classes and a bad member', async () => {
    const png = await image(40, 300, 3).png().toBuffer();
    const jpg = await image(256, 256, 3).jpeg().toBuffer();
    const shard = join(root, 'shard-0000.tar');
    writeFileSync(
      shard,
      tar([
        ['s000.png', png],
        ['s000.cls', Buffer.from('3')],
        ['s001.jpg', jpg],
        ['s001.cls', Buffer.from('7')],
        ['s002.jpg', Buffer.from('garbage')],
        ['s002.cls', Buffer.from('7')],
      ]),
    );
    const r = run(shard);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^format: tar \(detected\)$/m);
    assert.match(r.stdout, /^samples: 3 in 2 classes$/m);
    assert.match(r.stdout, /^ {2}3 +1$/m);
    assert.match(r.stdout, /^ {2}7 +2$/m);
    assert.match(r.stdout, /^formats: jpeg 1, png 1$/m);
    assert.match(r.stdout, /^short side: <64 1, 256-511 1$/m);
    assert.match(r.stdout, /^bad \(unreadable or bad header\): 1 of 3 checked:$/m);
    assert.match(r.stdout, /^ {2}#2 .*s002\.jpg: /m);
  });

  it('reports the fixed size and channels of a raw source (CIFAR-10)', () => {
    const dir = join(root, 'cifar');
    mkdirSync(dir);
    const records = Buffer.alloc(5 * 3073);
    for (let r = 0; r < 5; r++) records[r * 3073] = r % 2 === 0 ? 0 : 9;
    writeFileSync(join(dir, 'data_batch_1.bin'), records);
    const file = join(root, 'cifar.json');
    const r = run(dir, '--json', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^format: cifar \(detected\)$/m);
    assert.match(r.stdout, /^samples: 5 in 10 classes$/m);
    assert.match(r.stdout, /^raw size \(WxHxC\): 32x32x3 5$/m);
    assert.match(r.stdout, /^channels: rgb 5$/m);
    const j = JSON.parse(readFileSync(file, 'utf8')) as DataReport;
    assert.deepEqual(j.rawSizes, { '32x32x3': 5 });
    assert.deepEqual(j.formats, { raw: 5 });
    assert.equal(j.classes.samples.filter((c) => c.samples > 0).length, 2);
    assert.equal(j.ok, true);
  });
});

describe('data scan helpers', () => {
  it('buckets short sides', () => {
    assert.deepEqual([0, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 9999].map(sizeBucket), [
      '<64',
      '<64',
      '64-127',
      '64-127',
      '128-255',
      '128-255',
      '256-511',
      '256-511',
      '512-1023',
      '512-1023',
      '>=1024',
      '>=1024',
    ]);
  });

  it('names channel kinds', () => {
    assert.equal(channelKind({ channels: 1, depth: 'uchar' }), 'grey');
    assert.equal(channelKind({ channels: 2 }), 'grey+alpha');
    assert.equal(channelKind({ channels: 3, isPalette: true }), 'palette');
    assert.equal(channelKind({ channels: 4, space: 'cmyk' }), 'cmyk');
    assert.equal(channelKind({ channels: 3, depth: 'ushort', space: 'rgb16' }), '16-bit rgb');
    assert.equal(channelKind({ channels: 1, space: 'grey16' }), '16-bit grey');
  });

  it('plans the check: all up to the default, else spread evenly; the first N when given', () => {
    assert.deepEqual(planCheck(5, undefined), { mode: 'all', indices: [0, 1, 2, 3, 4] });
    assert.deepEqual(planCheck(5, 2), { mode: 'first', indices: [0, 1] });
    assert.deepEqual(planCheck(5, 9).mode, 'all');
    assert.deepEqual(planCheck(5, 0), { mode: 'first', indices: [] });
    const spread = planCheck(1_000_000, undefined);
    assert.equal(spread.mode, 'spread');
    assert.equal(spread.indices.length, 10_000);
    assert.equal(new Set(spread.indices).size, 10_000);
    assert.deepEqual(spread.indices.slice(0, 3), [0, 100, 200]);
    assert.equal(planCheck(1_000_000, 'all').indices.length, 1_000_000);
  });

  it('summarises more than 20 classes and names only the first 10 bad samples', () => {
    const classes = Array.from({ length: 25 }, (_, c) => ({
      name: `n${String(c).padStart(2, '0')}`,
      samples: c,
    }));
    const bad = Array.from({ length: 10 }, (_, i) => ({ index: i, name: `f${i}.jpg`, reason: 'bad' }));
    const text = formatReport({
      path: '/x',
      format: 'folder',
      detected: false,
      samples: 300,
      classes: { count: 25, samples: classes },
      check: { mode: 'spread', checked: 100, of: 300 },
      formats: { jpeg: 88 },
      sizes: { '>=1024': 88 },
      channels: { rgb: 88 },
      rawSizes: {},
      bad: { count: 12, first: bad },
      ok: false,
    });
    assert.match(text, /^format: folder \(given\)$/m);
    assert.match(text, /^classes \(samples\), the first 10:$/m);
    assert.match(text, /^ {2}n09 +9$/m);
    assert.doesNotMatch(text, /^ {2}n10 /m);
    assert.match(text, /^ {2}\.\.\. and 15 more$/m);
    assert.match(text, /^ {2}smallest n00 \(0\), largest n24 \(24\), 1 empty$/m);
    assert.match(text, /^checked: 100 of 300 samples, spread evenly/m);
    assert.match(text, /^bad \(unreadable or bad header\): 12 of 100 checked, the first 10:$/m);
  });

  it('shows progress: a rewritten line on a TTY (cleared at the end), a line per interval elsewhere', () => {
    const tty: string[] = [];
    const p = new ScanProgress({ write: (s: string) => tty.push(s), isTTY: true });
    p.update(5, 10);
    p.update(6, 10); // within 100 ms: not drawn
    p.end();
    assert.equal(tty.length, 2);
    assert.ok(tty[0]!.startsWith('\r') && tty[0]!.endsWith('\x1b[K'), JSON.stringify(tty[0]));
    assert.match(tty[0]!.slice(1, -3), /^data: checked 5\/10 \(50%\), \d+\/s, elapsed 0:00, ETA 0:00$/);
    assert.equal(tty[1], '\r\x1b[K');
    const log: string[] = [];
    const q = new ScanProgress({ write: (s: string) => log.push(s) }, 0);
    q.update(1, 4);
    q.end();
    assert.equal(log.length, 1);
    assert.match(log[0]!, /^data: checked 1\/4 \(25%\), .*ETA .*\n$/);
    const quiet: string[] = [];
    new ScanProgress({ write: (s: string) => quiet.push(s) }).update(1, 4); // under 10 s: nothing
    assert.deepEqual(quiet, []);
  });
});
