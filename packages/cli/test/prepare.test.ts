// prepare.test.ts: `mae-cuda prepare` on a generated ImageFolder (JPEG and PNG, RGB, RGBA and grey,
// some large enough to be resized, one bad file) in a child process: the shards read back with
// openSource (length, classes, labels, short sides, decodable), the same bytes for --workers 1
// and 3, resume after a lost shard, settings mismatch refused, shard-size splitting, a raw CIFAR
// source, and a pretrain round trip on the shards. Unit checks of the tar writer and sizes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeRegion, indexTar, openSource, readDecodeHeader, readNetpbm } from '@mae-cuda/mae';
import sharp from 'sharp';
import { resizedSize } from '../src/prepare/encode.js';
import { PrepareProgress } from '../src/prepare/progress.js';
import { type PrepareIndex, readIndex } from '../src/prepare/run.js';
import { parseSize } from '../src/prepare/size.js';
import { TarWriter } from '../src/prepare/tar-writer.js';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300000 });
const prep = (...args: string[]) => cli('prepare', ...args);

/** an image w x h with stripes (so JPEG sizes vary), 1, 3 or 4 channels */
function image(w: number, h: number, channels: 1 | 3 | 4, seed: number) {
  const raw = Buffer.alloc(w * h * channels);
  for (let p = 0; p < raw.length; p++)
    raw[p] = (Math.sin(p * 0.013 * (seed + 1) + p / (w * 7)) * 120 + 128) | 0;
  return sharp(raw, { raw: { width: w, height: h, channels } });
}

function shards(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.tar'))
    .sort();
}

describe('mae-cuda prepare', function () {
  this.timeout(300000);
  let root: string;
  let src: string;
  const SIZES: Array<[number, number, 1 | 3 | 4, 'jpg' | 'png']> = [
    [320, 300, 3, 'jpg'], // resized: short side 300 -> 256
    [100, 80, 3, 'png'],
    [600, 280, 4, 'png'], // rgba, resized
    [90, 120, 1, 'jpg'], // grey
    [64, 64, 3, 'jpg'],
    [257, 700, 3, 'jpg'], // resized 257 -> 256
    [50, 70, 1, 'png'],
    [128, 96, 3, 'jpg'],
  ];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mae-prepare-'));
    src = join(root, 'src');
    for (const c of ['cat', 'dog', 'eel']) mkdirSync(join(src, c), { recursive: true });
    for (let i = 0; i < 18; i++) {
      const [w, h, ch, ext] = SIZES[i % SIZES.length]!;
      const img = image(w, h, ch, i);
      const file = join(src, ['cat', 'dog', 'eel'][i % 3]!, `${String(i).padStart(3, '0')}.${ext}`);
      await (ext === 'jpg' ? img.jpeg({ quality: 90 }) : img.png()).toFile(file);
    }
    writeFileSync(join(src, 'dog', '500.jpg'), 'not an image\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes shards that openSource reads back like the source (labels, classes, short sides)', async () => {
    const out = join(root, 'out');
    const r = prep(src, '--out', out, '--workers', '3');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /prepared 18 of 19 samples/);
    assert.match(r.stdout, /skipped 1 sample.*\n.*500\.jpg/);
    const index = readIndex(out)!;
    assert.equal(index.complete, true);
    assert.deepEqual(index.classes, ['cat', 'dog', 'eel']);
    assert.equal(index.skipped.length, 1);
    assert.match(index.skipped[0]!.name, /500\.jpg$/);
    assert.deepEqual(shards(out), ['train-000000.tar']);
    assert.equal(statSync(join(out, 'train-000000.tar')).size, index.shards[0]!.bytes);

    const orig = await openSource(src);
    const back = await openSource(out); // a folder of .tar with index.json beside them
    assert.equal(back.format, 'tar');
    assert.equal(back.length, orig.length - 1);
    assert.equal(back.classes.length, orig.classes.length);
    const origIdx = [...Array(orig.length).keys()].filter((i) => i !== index.skipped[0]!.index);
    for (let j = 0; j < back.length; j++) {
      const i = origIdx[j]!;
      assert.equal(back.label(j), orig.label(i), `label of ${j}`);
      const s = await back.read(j);
      assert.equal(s.kind, 'encoded');
      assert.match(s.name, new RegExp(`${String(i).padStart(6, '0')}\\.jpg$`));
      const meta = await sharp((s as { bytes: Uint8Array }).bytes).metadata();
      assert.equal(meta.format, 'jpeg');
      const o = orig.read(i);
      const om = await sharp(((await o) as { bytes: Uint8Array }).bytes).metadata();
      assert.deepEqual([meta.width, meta.height], resizedSize(om.width!, om.height!, 256));
      assert.ok(Math.min(meta.width!, meta.height!) <= 256);
      assert.equal(meta.channels, om.channels === 1 || (om.channels === 2 && om.hasAlpha) ? 1 : 3);
      await sharp((s as { bytes: Uint8Array }).bytes)
        .raw()
        .toBuffer(); // decodes
    }
    await orig.close();
    await back.close();
    // the brace pattern reads the same
    const braced = await openSource(join(out, 'train-{000000..000000}.tar'));
    assert.equal(braced.length, 18);
    await braced.close();
  });

  it('--encoding raw stores the pixels as PPM/PGM: the decoded source exactly (--keep-size)', async () => {
    const out = join(root, 'raw');
    const r = prep(src, '--out', out, '--encoding', 'raw', '--keep-size');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /raw pixels/);
    const skipped = readIndex(out)!.skipped.map((k) => k.index);
    assert.equal(readIndex(out)!.settings.encoding, 'raw');
    const orig = await openSource(src);
    const back = await openSource(out);
    assert.equal(back.length, 18);
    for (let j = 0; j < back.length; j++) {
      const i = j < skipped[0]! ? j : j + 1; // dog/500.jpg (not an image) is skipped
      const s = (await back.read(j)) as { kind: 'encoded'; bytes: Uint8Array; name: string };
      const raw = readNetpbm(s.bytes, s.name)!;
      const o = (await orig.read(i)) as { kind: 'encoded'; bytes: Uint8Array; name: string };
      const header = await readDecodeHeader(o.bytes, o.name, 1 << 24);
      const rgb = await decodeRegion(o.bytes, o.name, header, { left: 0, top: 0, ...header }, 1 << 24);
      assert.deepEqual([raw.width, raw.height], [header.width, header.height], s.name);
      const want = raw.channels === 3 ? rgb : rgb.filter((_, k) => k % 3 === 0);
      assert.match(s.name, raw.channels === 3 ? /\.ppm$/ : /\.pgm$/);
      assert.ok(Buffer.from(raw.pixels).equals(Buffer.from(want)), s.name);
    }
    await orig.close();
    await back.close();
    // the settings differ from a JPEG prepare: refused into the same folder
    const again = prep(src, '--out', out, '--keep-size');
    assert.equal(again.status, 2, again.stdout + again.stderr);
  });

  it('writes the same bytes for --workers 1 and 3, split by --shard-size', () => {
    const a = join(root, 'w1');
    const b = join(root, 'w3');
    for (const [dir, w] of [
      [a, '1'],
      [b, '3'],
    ] as const) {
      const r = prep(src, '--out', dir, '--workers', w, '--shard-size', '40KiB', '--short-side', '100');
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
    const names = shards(a);
    assert.ok(names.length >= 3, `several shards: ${names}`);
    assert.deepEqual(shards(b), names);
    for (const n of names) assert.ok(readFileSync(join(a, n)).equals(readFileSync(join(b, n))), n);
    const ia = readIndex(a)!;
    assert.deepEqual(ia.shards, readIndex(b)!.shards);
    for (const s of ia.shards.slice(0, -1)) assert.ok(s.bytes <= 40 * 1024, `${s.name} ${s.bytes}`);
    assert.equal(
      ia.shards.reduce((t, s) => t + s.samples, 0),
      18,
    );
  });

  it('resumes: only a lost shard is rewritten, and a rerun of a complete prepare writes nothing', () => {
    const dir = join(root, 'resume');
    const args = [src, '--out', dir, '--workers', '2', '--shard-size', '40KiB', '--short-side', '100'];
    assert.equal(prep(...args).status, 0);
    const names = shards(dir);
    const before = new Map(names.map((n) => [n, statSync(join(dir, n)).mtimeMs]));
    const full = names.map((n) => readFileSync(join(dir, n)));
    const again = prep(...args);
    assert.equal(again.status, 0, again.stderr);
    for (const n of names) assert.equal(statSync(join(dir, n)).mtimeMs, before.get(n));
    // simulate a kill during the last shard: it is gone, the index still says complete-up-to before it
    const last = names[names.length - 1]!;
    rmSync(join(dir, last));
    const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as PrepareIndex;
    idx.complete = false;
    const lostShard = idx.shards.pop()!;
    idx.next = lostShard.first;
    idx.samples -= lostShard.samples;
    writeFileSync(join(dir, 'index.json'), JSON.stringify(idx));
    writeFileSync(join(dir, `${last}.partial`), 'half a shard');
    const r = prep(...args);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`resumed: ${names.length - 1} complete shard\\(s\\) kept, 1 written`));
    assert.deepEqual(shards(dir), names);
    assert.ok(!readdirSync(dir).some((n) => n.endsWith('.partial')));
    for (const [k, n] of names.entries()) {
      assert.ok(readFileSync(join(dir, n)).equals(full[k]!), n);
      if (n !== last) assert.equal(statSync(join(dir, n)).mtimeMs, before.get(n), `${n} kept`);
    }
    assert.equal(readIndex(dir)!.complete, true);
    assert.equal(readIndex(dir)!.skipped.length, 1);
    // a shard deleted from a complete prepare (the index unchanged) is written again, alone
    const mid = names[1]!;
    const mtimes = new Map(names.map((n) => [n, statSync(join(dir, n)).mtimeMs]));
    rmSync(join(dir, mid));
    const r2 = prep(...args);
    assert.equal(r2.status, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /resumed: 1 complete shard\(s\) kept/);
    for (const [k, n] of names.entries()) {
      assert.ok(readFileSync(join(dir, n)).equals(full[k]!), n);
      if (n === names[0]) assert.equal(statSync(join(dir, n)).mtimeMs, mtimes.get(n));
    }
    assert.deepEqual(readIndex(dir)!.shards, readIndex(join(root, 'w1'))!.shards);
  });

  it('refuses other settings in a non-empty folder (exit 2) unless --overwrite; refuses bad arguments', () => {
    const dir = join(root, 'mismatch');
    assert.equal(prep(src, '--out', dir, '--short-side', '64').status, 0);
    const r = prep(src, '--out', dir, '--short-side', '32');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /other settings.*--overwrite/);
    const k = prep(src, '--out', dir, '--keep-size', '--overwrite');
    assert.equal(k.status, 0, k.stderr);
    assert.equal(readIndex(dir)!.settings.shortSide, null);
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    assert.equal(prep(src, '--out', other).status, 2);
    assert.equal(prep(src, '--out', join(root, 'x'), '--keep-size', '--short-side', '10').status, 2);
    assert.equal(prep(src, '--out', join(root, 'x'), '--shard-size', '12parsecs').status, 2);
    assert.equal(prep(src, '--out', join(root, 'x'), '--quality', '0').status, 2);
    assert.equal(prep(join(root, 'missing'), '--out', join(root, 'x')).status, 2);
  });

  it('encodes a raw CIFAR source from its pixels', async () => {
    const cifar = join(root, 'cifar');
    mkdirSync(cifar);
    const rec = Buffer.alloc(5 * 3073);
    for (let i = 0; i < 5; i++) {
      rec[i * 3073] = i % 3;
      for (let p = 1; p < 3073; p++) rec[i * 3073 + p] = (p * (i + 1)) % 256;
    }
    writeFileSync(join(cifar, 'data_batch_1.bin'), rec);
    const out = join(root, 'cifar-out');
    const r = prep(cifar, '--out', out);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const back = await openSource(out);
    assert.equal(back.length, 5);
    for (let i = 0; i < 5; i++) {
      assert.equal(back.classes[back.label(i)], String(i % 3));
      const m = await sharp(((await back.read(i)) as { bytes: Uint8Array }).bytes).metadata();
      assert.deepEqual([m.width, m.height, m.channels], [32, 32, 3]);
    }
    await back.close();
  });

  it('resumes after the process is killed mid-run, to the same bytes as an uninterrupted run', async () => {
    const cifar = join(root, 'cifar-many');
    mkdirSync(cifar);
    const n = 1500;
    const rec = Buffer.alloc(n * 3073);
    for (let i = 0; i < n; i++) {
      rec[i * 3073] = i % 10;
      for (let p = 1; p < 3073; p++) rec[i * 3073 + p] = (p * (i + 1) + (p >> 5) * i) % 256;
    }
    writeFileSync(join(cifar, 'data_batch_1.bin'), rec);
    const args = (out: string) => ['prepare', cifar, '--out', out, '--shard-size', '8KiB', '--workers', '2'];
    const killed = join(root, 'killed');
    const child = spawn(process.execPath, [bin, ...args(killed)], { stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    let listed = 0;
    for (let t = 0; t < 3000 && listed < 5; t++) {
      await new Promise((res) => setTimeout(res, 20));
      listed = readIndex(killed)?.shards.length ?? 0;
    }
    child.kill('SIGKILL');
    await exited;
    const partial = readIndex(killed)!;
    assert.equal(partial.complete, false, 'killed before the end');
    const r = prep(...args(killed).slice(1));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /resumed: \d+ complete shard/);
    const whole = join(root, 'unkilled');
    assert.equal(prep(...args(whole).slice(1)).status, 0);
    const names = shards(whole);
    assert.deepEqual(shards(killed), names);
    assert.ok(!readdirSync(killed).some((f) => f.endsWith('.partial')));
    for (const f of names) assert.ok(readFileSync(join(killed, f)).equals(readFileSync(join(whole, f))), f);
    assert.deepEqual(readIndex(killed)!.shards, readIndex(whole)!.shards);
  });

  it('trains mae_tiny_32 with pretrain --data on the prepared folder', () => {
    const out = join(root, 'w1');
    const r = cli(
      'pretrain',
      '--data',
      out,
      '--model',
      'mae_tiny_32',
      '--steps',
      '2',
      '--batch-size',
      '8',
      '--preview',
      '0',
      '--output-dir',
      join(root, 'train'),
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /on 18 tar:/);
  });
});

describe('prepare helpers', () => {
  it('draws the progress line: done/total, images/s, MB written, ETA', () => {
    const lines: string[] = [];
    const sink = {
      isTTY: false,
      write: (t: string) => {
        lines.push(t);
        return true;
      },
    };
    const p = new PrepareProgress(sink as never, 0, 0);
    p.update(50, 200, 12_345_678, true);
    assert.match(
      lines.join(''),
      /^prepare: 50\/200 \(25%\), \d+ images\/s, 12\.3 MB written, elapsed .*, ETA .*\n$/,
    );
  });

  it('parses sizes', () => {
    assert.equal(parseSize('1GiB'), 1024 ** 3);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('500MB'), 500e6);
    assert.equal(parseSize('1.5k'), 1536);
    assert.equal(parseSize('1000000'), 1e6);
    assert.equal(parseSize('12parsecs'), undefined);
    assert.equal(parseSize('-1'), undefined);
  });

  it('resizes the short side, never enlarging', () => {
    assert.deepEqual(resizedSize(320, 300, 256), [273, 256]);
    assert.deepEqual(resizedSize(300, 900, 256), [256, 768]);
    assert.deepEqual(resizedSize(100, 80, 256), [100, 80]);
    assert.deepEqual(resizedSize(1000, 800, undefined), [1000, 800]);
  });

  it('writes a ustar archive that the tar index reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mae-tarw-'));
    try {
      const file = join(dir, 'a.tar');
      const w = await TarWriter.create(file);
      await w.add('000000.jpg', Buffer.alloc(700, 7));
      await w.add('000000.cls', Buffer.from('3'));
      await w.add('empty.bin', Buffer.alloc(0));
      const bytes = await w.close();
      assert.equal(bytes, 512 + 1024 + 512 + 512 + 512 + 1024);
      assert.equal(statSync(file).size, bytes);
      const members = await indexTar(file, () => true);
      assert.deepEqual(
        members.map((m) => [m.name, m.size]),
        [
          ['000000.jpg', 700],
          ['000000.cls', 1],
          ['empty.bin', 0],
        ],
      );
      const tarList = spawnSync('tar', ['-tvf', file], { encoding: 'utf8' });
      if (tarList.status === 0) assert.match(tarList.stdout, /000000\.cls/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
