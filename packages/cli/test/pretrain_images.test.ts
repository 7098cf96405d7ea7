// pretrain_images.test.ts: `mae-cuda pretrain --data` on images on disk, end to end in a child
// process: a generated ImageFolder of JPEGs (mae_tiny_32, 4 steps; mae_vit_base_patch16 at 224,
// one step of 2), the same images as WebDataset tar shards, a bad file under --bad-data fail, and
// sources refused before any work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, jpegFolder, tmp } from './pretrain_helpers.js';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'pretrain', ...args], { encoding: 'utf8', timeout: 300000 });
/** mae_tiny_32 at batch 16 on `data` for `steps` steps into `out` */
const tiny = (data: string, steps: number, out: string, ...more: string[]) =>
  run(
    '--data',
    data,
    '--model',
    'mae_tiny_32',
    '--steps',
    String(steps),
    '--batch-size',
    '16',
    '--output-dir',
    out,
    ...more,
  );

describe('mae-cuda pretrain --data with images on disk', function () {
  this.timeout(300000);
  let root: string;
  let folder: string;
  before(async () => {
    root = tmp();
    folder = join(root, 'train');
    await jpegFolder(folder, 64);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('trains mae_tiny_32 on an ImageFolder of JPEGs, with RGB reconstructions', () => {
    const out = join(root, 'tiny');
    const r = tiny(folder, 4, out);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /on 64 folder:.* images/);
    assert.match(r.stdout, /done: 4 steps/);
    assert.match(r.stdout, /epoch 0: .* img\/s, [\d.]+ s; loader \d+ img\/s, data wait [\d.]+%/);
    const log = JSON.parse(readFileSync(join(out, 'log.jsonl'), 'utf8').trim());
    assert.equal(log.bad_samples, 0);
    // 4 columns of 32x32 RGB images scaled 3x: the preview is drawn in colour
    const png = readFileSync(join(out, 'reconstructions.png'));
    assert.equal(png.readUInt32BE(16), 4 * 96 + 5 * 4);
  });

  it('takes a mae_vit_base_patch16 step at 224 from the JPEGs on the CPU (batch 2)', () => {
    const out = join(root, 'vitb');
    const r = run(
      '--data',
      folder,
      '--model',
      'mae_vit_base_patch16',
      '--steps',
      '1',
      '--batch-size',
      '2',
      '--preview',
      '2',
      '--output-dir',
      out,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /pretraining mae_vit_base_patch16 \(224x224, patch 16/);
    assert.match(r.stdout, /done: 1 steps, loss \d/);
  });

  it('reads the same images as WebDataset tar shards, the first --limit of them if asked', () => {
    const shards = join(root, 'shards');
    mkdirSync(shards);
    for (const [k, cls] of [
      ['dog', 0],
      ['cat', 1],
    ] as const) {
      const stage = join(root, `stage-${k}`);
      mkdirSync(stage);
      for (let i = cls; i < 64; i += 2) {
        const key = `s${String(i).padStart(4, '0')}`;
        writeFileSync(
          join(stage, `${key}.jpg`),
          readFileSync(join(folder, k, `${String(i).padStart(4, '0')}.jpg`)),
        );
        writeFileSync(join(stage, `${key}.cls`), String(cls));
      }
      const t = spawnSync('tar', ['-cf', join(shards, `train-000${cls}.tar`), '-C', stage, '.'], {
        encoding: 'utf8',
      });
      assert.equal(t.status, 0, t.stderr);
    }
    const out = join(root, 'tar');
    const r = tiny(join(shards, 'train-{0000..0001}.tar'), 2, out);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /on 64 tar:.* images/);
    // --limit trains on the first samples only (any source; 7616 is the default of MNIST alone)
    const limited = tiny(join(shards, 'train-{0000..0001}.tar'), 1, join(root, 'tar-limit'), '--limit', '48');
    assert.equal(limited.status, 0, limited.stdout + limited.stderr);
    assert.match(limited.stdout, /on 48 tar:.* images, device cpu: 3 steps\/epoch/);
  });

  it('--bad-data fail stops at a bad file naming it; skip trains on and counts it', () => {
    const bad = join(root, 'bad');
    mkdirSync(join(bad, 'a'), { recursive: true });
    for (let i = 0; i < 40; i++)
      writeFileSync(
        join(bad, 'a', `${i}.jpg`),
        readFileSync(join(folder, 'dog', `${String(2 * (i % 32)).padStart(4, '0')}.jpg`)),
      );
    writeFileSync(join(bad, 'a', '3.jpg'), 'not an image');
    const common = [
      '--data',
      bad,
      '--model',
      'mae_tiny_32',
      '--steps',
      '2',
      '--batch-size',
      '16',
      '--preview',
      '0',
    ];
    const fail = run(...common, '--bad-data', 'fail', '--output-dir', join(root, 'bad-fail'));
    assert.equal(fail.status, 1, fail.stdout + fail.stderr);
    assert.match(fail.stderr, /3\.jpg/);
    const skip = run(...common, '--output-dir', join(root, 'bad-skip'));
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stdout, /bad data: .*3\.jpg/);
  });

  it('refuses a source with no image, or that is not there, before any work', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    for (const [data, message] of [
      [empty, /--data: .*empty/],
      [join(root, 'nowhere'), /--data: .* does not exist/],
    ] as const) {
      const r = run(
        '--data',
        data,
        '--model',
        'mae_tiny_32',
        '--steps',
        '1',
        '--output-dir',
        join(root, 'never'),
      );
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
    }
  });
});
