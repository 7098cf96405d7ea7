// evaluate.test.ts: `mae-cuda knn`, `embed`, `reconstruct` and `convert` end to end on the CPU with
// the tiny preset (a 20-step pretraining run's checkpoint): knn prints top-1/top-5 of the
// checkpoint and of the random-init model; embed writes cls/mean features and the labels;
// reconstruct draws a four-column row per image file; convert goes to HF and back unchanged; bad
// input exits 2 naming the problem; --help and completion know the commands.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blankImage,
  encodePng,
  loadCheckpoint,
  loadMnist,
  PNG_SIGNATURE,
  readSafetensors,
  saveCheckpoint,
} from '@mae-cuda/mae';
import { bin, tmp } from './pretrain_helpers.js';

const mae = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120000 });

/** A digit of the shipped MNIST as an RGB PNG file. */
function digitPng(dir: string, k: number): string {
  const raw = loadMnist().raw(k);
  const img = blankImage(28, 28, [0, 0, 0]);
  for (let i = 0; i < 784; i++) img.pixels.fill(Math.round(raw[i]! * 255), i * 3, i * 3 + 3);
  const path = join(dir, `digit${k}.png`);
  writeFileSync(path, encodePng(img));
  return path;
}

describe('mae-cuda knn, embed, reconstruct, convert', function () {
  this.timeout(180000);
  let dir = '';
  let ckpt = '';
  before(() => {
    dir = tmp();
    const r = mae(
      'pretrain',
      '--steps',
      '20',
      '--batch-size',
      '32',
      '--limit',
      '640',
      '--output-dir',
      join(dir, 'run'),
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    ckpt = join(dir, 'run', 'checkpoint-last.safetensors');
  });

  it('knn prints top-1 and top-5 of the checkpoint and of the random-init model', () => {
    const r = mae('knn', '--checkpoint', ckpt, '--train', '400', '--test', '100');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /knn \(k 20, T 0\.07\) on mnist: 400 train \/ 100 test images, 10 classes/);
    for (const row of [
      'cls +checkpoint',
      'mean +checkpoint',
      'cls +random init \\(seed 0\\)',
      'mean +random init \\(seed 0\\)',
    ])
      assert.match(r.stdout, new RegExp(`${row} +\\d+\\.\\d% +\\d+\\.\\d%`), row);
  });

  it('embed writes cls and mean features and the labels', async () => {
    const out = join(dir, 'features.safetensors');
    const r = mae('embed', '--checkpoint', ckpt, '--data', 'mnist', '--limit', '30', '--out', out);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const f = await readSafetensors(out);
    assert.deepEqual(f.tensors.get('cls')!.shape, [30, 64]);
    assert.deepEqual(f.tensors.get('mean')!.shape, [30, 64]);
    const labels = f.tensors.get('labels')!;
    assert.equal(labels.dtype, 'I64');
    const mnist = loadMnist();
    assert.deepEqual(
      [...(labels.data as BigInt64Array)].map(Number),
      Array.from({ length: 30 }, (_, k) => mnist.label(k)),
    );
    assert.equal(f.metadata.checkpoint, ckpt);
  });

  it('reconstruct draws a row of four per image', () => {
    const out = join(dir, 'grid.png');
    const images = [0, 1, 2].map((k) => digitPng(dir, k));
    const r = mae(
      'reconstruct',
      '--checkpoint',
      ckpt,
      ...images,
      '--out',
      out,
      '--mask-ratio',
      '0.5',
      '--seed',
      '3',
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /grid\.png: 3 images, mask ratio 0\.5, seed 3/);
    const png = readFileSync(out);
    assert.deepEqual([...png.subarray(0, 8)], [...PNG_SIGNATURE]);
    // scale 3, gap 4: 4 cells of 84 + 5 gaps wide, 3 cells + 4 gaps high
    assert.equal(png.readUInt32BE(16), 4 * 84 + 5 * 4);
    assert.equal(png.readUInt32BE(20), 3 * 84 + 4 * 4);
  });

  it('convert: ours -> HF -> ours keeps every tensor, the step and the config', async () => {
    const hf = join(dir, 'hf');
    const back = join(dir, 'back.safetensors');
    assert.equal(mae('convert', ckpt, '--to', 'hf', '--out', hf).status, 0);
    const r = mae('convert', hf, '--to', 'mae-cuda', '--out', back);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /hf, 86 tensors\) -> .*back\.safetensors \(mae-cuda checkpoint\)/);
    const [a, b] = [await loadCheckpoint(ckpt), await loadCheckpoint(back)];
    assert.deepEqual(b.model, a.model);
    assert.equal(b.step, a.step);
    assert.deepEqual(b.config, a.config);
    // knn and embed take the HF folder directly
    assert.equal(
      mae('embed', '--checkpoint', hf, '--data', 'mnist', '--limit', '4', '--out', join(dir, 'f.st')).status,
      0,
    );
  });

  it('bad input exits 2 naming the problem', async () => {
    const enc = join(dir, 'encoder-only.safetensors');
    const full = await loadCheckpoint(ckpt);
    const model = Object.fromEntries(
      Object.entries(full.model).filter(([n]) => !/^(mask_token|decoder_)/.test(n)),
    );
    await saveCheckpoint(enc, { ...full, model });
    const png = digitPng(dir, 5);
    const cases: [string[], RegExp][] = [
      [['knn', '--checkpoint', join(dir, 'none.pth')], /mae-cuda knn: .*none\.pth.*no such file/],
      [
        ['knn', '--checkpoint', ckpt, '--train', '9000', '--test', '2000'],
        /mnist \(its class-balanced first \d+ of \d+ digits\) holds \d+ images; --train 9000 \+ --test 2000 asks for more/,
      ],
      [['knn'], /give the checkpoint: --checkpoint FILE/],
      [
        ['reconstruct', '--checkpoint', enc, png, '--out', join(dir, 'x.png')],
        /has no decoder \(an encoder-only checkpoint\)/,
      ],
      [
        ['reconstruct', '--checkpoint', ckpt, '--out', join(dir, 'x.png')],
        /--images: give at least one image file/,
      ],
      [
        ['reconstruct', '--checkpoint', ckpt, join(dir, 'missing.png'), '--out', join(dir, 'x.png')],
        /cannot read .*missing\.png/,
      ],
      [
        ['embed', '--checkpoint', ckpt, '--data', join(dir, 'nowhere'), '--out', join(dir, 'e')],
        /nowhere.*does not exist/,
      ],
      [['convert', ckpt, '--to', 'onnx', '--out', join(dir, 'o')], /--to: give --to hf or mae-cuda/],
      [['convert', ckpt, '--to', 'hf', '--out', ckpt], /exists; give --overwrite to replace it/],
      [['convert', png, '--to', 'hf', '--out', join(dir, 'p')], /not a safetensors file/],
    ];
    for (const [args, message] of cases) {
      const r = mae(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  it('--help and the completion script know the commands and their flags', () => {
    for (const c of ['knn', 'embed', 'reconstruct', 'convert']) {
      const r = mae(c, '--help');
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`usage: mae-cuda ${c} `));
    }
    const script = mae('completion', 'bash').stdout;
    assert.match(
      script,
      /knn\) flags="--checkpoint --data --data-format --train --test --k --temperature --seed --device --batch-size --help"/,
    );
    assert.match(script, /reconstruct\) flags="--checkpoint --out --mask-ratio --seed --device --help"/);
    assert.match(script, /convert\) flags="--to --out --arch --overwrite --help"/);
    assert.match(
      script,
      /embed\) flags="--checkpoint --data --data-format --out --limit --device --batch-size --help"/,
    );
  });
});
