// bench_data.test.ts: `mae-cuda bench-data` on a generated folder of JPEGs: it prints the loader's
// images/s and per core, writes --json, runs torchvision's pipeline for the ratio where Debian's
// python3-torchvision is installed, and refuses a bad source or --torchvision naming them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { bin, tmp } from './pretrain_helpers.js';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'bench-data', ...args], { encoding: 'utf8', timeout: 300000 });
const hasTorchvision = () =>
  spawnSync('/usr/bin/python3', ['-c', 'import torchvision'], { encoding: 'utf8' }).status === 0;

describe('mae-cuda bench-data', function () {
  this.timeout(300000);
  let root: string;
  before(async () => {
    root = tmp();
    for (const c of ['a', 'b']) mkdirSync(join(root, 'photos', c), { recursive: true });
    for (let i = 0; i < 16; i++) {
      const [w, h] = [80 + 7 * i, 64 + 5 * i];
      const raw = Buffer.alloc(w * h * 3);
      for (let p = 0; p < raw.length; p++) raw[p] = (p * 31 + i * 7) & 255;
      const jpg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
        .jpeg()
        .toBuffer();
      writeFileSync(join(root, 'photos', i % 2 ? 'a' : 'b', `${i}.jpg`), jpg);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('prints the loader images/s and per core, and writes --json', () => {
    const json = join(root, 'r.json');
    const r = run(
      '--data',
      join(root, 'photos'),
      '--batch',
      '4',
      '--batches',
      '2',
      '--num-workers',
      '1',
      '--input-size',
      '32',
      '--json',
      json,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 batches of 4 at 32x32, 1 workers/);
    assert.match(r.stdout, /mae-cuda loader: \d+\.\d img\/s, \d+\.\d img\/s per core/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.ours.images, 8);
    assert.ok(report.ours.imagesPerSec > 0);
  });

  it('--device uploads and normalises each batch there; a bad --device is refused', () => {
    const r = run(
      '--data',
      join(root, 'photos'),
      '--batch',
      '4',
      '--batches',
      '2',
      '--num-workers',
      '1',
      '--input-size',
      '32',
      '--device',
      'cpu',
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /mae-cuda loader \+ upload to cpu: \d+\.\d img\/s/);
    const bad = run('--data', join(root, 'photos'), '--device', 'gpu');
    assert.equal(bad.status, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /--device.*'cpu', 'cuda' or 'cuda:N'/);
  });

  it('runs torchvision on the same folder and prints the ratio', function () {
    if (!hasTorchvision()) {
      console.log('      (no python3-torchvision in /usr/bin/python3: apt-get install python3-torchvision)');
      this.skip();
    }
    const r = run(
      '--data',
      join(root, 'photos'),
      '--batch',
      '4',
      '--batches',
      '2',
      '--num-workers',
      '1',
      '--input-size',
      '32',
      '--torchvision',
      '/usr/bin/python3',
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /torchvision \S+: \d+\.\d img\/s/);
    assert.match(r.stdout, /ratio \(mae-cuda \/ torchvision\): \d+\.\d\dx/);
  });

  it('refuses a missing source (exit 2) and names a --torchvision that fails', () => {
    const missing = run('--data', join(root, 'nowhere'));
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /--data: .*nowhere/);
    const bad = run(
      '--data',
      join(root, 'photos'),
      '--batch',
      '2',
      '--batches',
      '1',
      '--num-workers',
      '1',
      '--input-size',
      '16',
      '--torchvision',
      '/bin/false',
    );
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(
      bad.stderr,
      /--torchvision: the torchvision run \(\/bin\/false .*\) failed: it exited with code 1/,
    );
  });
});
