// pretrain_eval.test.ts: the end-of-run evaluation of `mae-cuda pretrain` on a tiny run: the kNN
// top-1 of the pretrained encoder and of the same model at random init, printed and as the last
// line of log.jsonl ("eval": "knn"); whether the test digits were pretrained on; --eval knn on a
// labelled image folder, and refused on an unlabelled one; too few digits (auto skips, knn fails);
// --eval none; a bad --eval-train refused. (That the default run's encoder beats random init by a clear margin is the
// README's measured table: the default run takes minutes, too long for a test.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mnistDigitsDir } from '@mae-cuda/mae';
import { bin, jpegFolder, SMALL, tmp } from './pretrain_helpers.js';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'pretrain', ...args], { encoding: 'utf8', timeout: 120000 });

const logLines = (out: string) =>
  readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

const tiny = (out: string, steps = '3', limit = '256') => [
  ...SMALL,
  '--steps',
  steps,
  '--limit',
  limit,
  '--batch-size',
  '32',
  '--eval-train',
  '300',
  '--eval-test',
  '100',
  '--output-dir',
  out,
];

describe('mae-cuda pretrain: the end-of-run evaluation', function () {
  this.timeout(120000);

  it('prints and logs the kNN accuracy of the encoder and of the model at random init', () => {
    const out = tmp();
    const r = run(...tiny(out));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /evaluating: kNN accuracy of the encoder against the same model at random init/);
    assert.match(
      r.stdout,
      /kNN accuracy \(top-1, k 20, T 0\.07\) on 100 held-out images \(not pretrained on\), neighbours 300 images:/,
    );
    assert.match(r.stdout, /\n {2}mean-pooled +\d+\.\d% +\d+\.\d% +\([+-]\d+\.\d points\)\n/);
    assert.match(r.stdout, /\n {2}cls token +\d+\.\d% +\d+\.\d% +\([+-]\d+\.\d points\)\n/);
    const log = logLines(out);
    assert.equal(log.length, 2);
    const e = log[1];
    assert.equal(e.eval, 'knn');
    assert.equal(e.steps, 3);
    assert.equal(e.features, 'mean');
    assert.deepEqual([e.k, e.temperature, e.train_images, e.test_images], [20, 0.07, 300, 100]);
    assert.equal(e.test_pretrained_on, false);
    for (const m of [e.pretrained, e.random_init])
      for (const f of ['mean', 'cls'])
        for (const t of ['top1', 'top5']) assert.ok(m[f][t] >= 0 && m[f][t] <= 100, `${f} ${t}`);
    const shown = r.stdout.match(/mean-pooled +(\d+\.\d)% +(\d+\.\d)%/)!;
    assert.deepEqual(
      [Number(shown[1]), Number(shown[2])],
      [Number(e.pretrained.mean.top1.toFixed(1)), Number(e.random_init.mean.top1.toFixed(1))],
    );
  });

  it('says when the run pretrained on the test digits', () => {
    const out = tmp();
    const r = run(...tiny(out, '1', '8600'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /on 100 test images \(which this run also pretrained on\)/);
    assert.equal(logLines(out).at(-1).test_pretrained_on, true);
  });

  it('--eval knn on an image folder: its labels, a seeded shuffle; refused without labels', async () => {
    const root = tmp();
    const labelled = join(root, 'labelled');
    await jpegFolder(labelled, 64);
    const args = (data: string, out: string) => [
      ...SMALL,
      '--data',
      data,
      '--steps',
      '1',
      '--batch-size',
      '16',
      '--eval',
      'knn',
      '--eval-train',
      '40',
      '--eval-test',
      '20',
      '--output-dir',
      out,
    ];
    const out = join(root, 'out');
    const r = run(...args(labelled, out));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /kNN accuracy \(top-1, k 20, T 0\.07\) on 20 test images, neighbours 40 images:/);
    const e = logLines(out).at(-1);
    assert.equal(e.eval, 'knn');
    assert.equal(e.test_pretrained_on, undefined);
    const flat = join(root, 'flat');
    mkdirSync(flat);
    for (const c of readdirSync(labelled))
      for (const f of readdirSync(join(labelled, c)))
        renameSync(join(labelled, c, f), join(flat, `${c}-${f}`));
    const bad = run(...args(flat, join(root, 'flat-out')));
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(
      bad.stderr,
      /eval knn: .*flat has no labels .* the checkpoint is saved \(--eval none skips the evaluation\)/,
    );
  });

  it('eval auto skips, with a message, digits too few for it; --eval knn fails on them', () => {
    const digits = join(tmp(), 'digits');
    mkdirSync(digits);
    for (let d = 0; d < 10; d++) {
      const all = JSON.parse(readFileSync(join(mnistDigitsDir(), `${d}.json`), 'utf8')).data as number[];
      writeFileSync(join(digits, `${d}.json`), JSON.stringify({ data: all.slice(0, 20 * 784) }));
    }
    const args = (out: string) => [
      ...SMALL,
      '--data',
      digits,
      '--steps',
      '1',
      '--batch-size',
      '16',
      '--output-dir',
      out,
    ];
    const out = tmp();
    const r = run(...args(out));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /evaluation skipped: .*digits.* holds 200 images; --train 5000 \+ --test 1000 asks for more/,
    );
    assert.ok(logLines(out).every((l) => l.eval === undefined));
    const asked = run(...args(tmp()), '--eval', 'knn');
    assert.equal(asked.status, 1, asked.stdout + asked.stderr);
    assert.match(asked.stderr, /holds 200 images; --train 5000 \+ --test 1000 asks for more/);
  });

  it('--eval none skips it; a bad --eval-train is refused before any work', () => {
    const out = tmp();
    const r = run(...tiny(out), '--eval', 'none');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /kNN/);
    assert.ok(logLines(out).every((l) => l.eval === undefined));
    for (const [args, message] of [
      [['--eval-train', '0'], /--eval-train: must be at least 1/],
      [['--eval', 'linear'], /--eval:/],
    ] as const) {
      const bad = run(...args, '--output-dir', join(tmp(), 'never'));
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, message);
    }
  });
});
