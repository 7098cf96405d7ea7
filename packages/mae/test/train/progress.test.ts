// progress.test.ts: the progress line: \r rewrites on a TTY, whole periodic lines elsewhere.
import assert from 'node:assert/strict';
import { formatDuration, formatProgress, ProgressBar } from '../../src/train/progress.js';

const update = (step: number) => ({ step, totalSteps: 3, epoch: 0, loss: 0.5, lr: 1e-3, imagesPerSec: 100 });

describe('ProgressBar', () => {
  it('rewrites one line on a TTY and ends it on break()', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ isTTY: true, write: (s: string) => out.push(s) });
    bar.update(update(1));
    bar.update(update(3));
    bar.break();
    assert.ok(out[0]!.startsWith('\rstep 1/3 epoch 0 loss 0.5000 lr 1.00e-3 100 img/s ETA '));
    assert.ok(out.at(-2)!.startsWith('\rstep 3/3'));
    assert.equal(out.at(-1), '\n');
  });

  it('prints whole lines, the first, then at most one per interval and the last', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ write: (s: string) => out.push(s) }, 60_000);
    for (let s = 1; s <= 3; s++) bar.update(update(s));
    bar.break();
    assert.equal(out.length, 2);
    assert.ok(out.every((l) => l.endsWith('\n') && !l.includes('\r')));
    assert.match(out[1]!, /^step 3\/3 .* ETA 0:00\n$/);
  });

  it('shows the share of time the steps waited for data when images come from disk', () => {
    const u = { step: 3, totalSteps: 10, epoch: 0, loss: 1.5, lr: 1e-3, imagesPerSec: 250 };
    assert.doesNotMatch(formatProgress(u, 5), /data wait/);
    assert.match(formatProgress({ ...u, dataWait: 0.034 }, 5), /250 img\/s data wait 3% ETA 0:05$/);
  });

  it('formats durations', () => {
    assert.equal(formatDuration(65), '1:05');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(Number.NaN), '?');
  });
});
