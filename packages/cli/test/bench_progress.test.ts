// bench_progress.test.ts: the bench's progress line: counts, ETA from the runs done, one line per
// run in logs, one rewritten line on a TTY that is cleared before the tables.
import assert from 'node:assert/strict';
import { BenchProgress } from '../src/bench/progress.js';

const sink = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, s: { isTTY, write: (x: string) => out.push(x) } };
};

describe('BenchProgress', () => {
  it('prints a line per run in logs, with the count and an ETA once a run is done', () => {
    const { out, s } = sink(false);
    const p = new BenchProgress(s, 3);
    p.start('mae-cuda a');
    p.finish();
    p.start('PyTorch a');
    p.end();
    assert.equal(out.length, 2);
    assert.match(out[0]!, /^bench: run 1\/3: mae-cuda a \(elapsed 0:00, ETA \?\)\n$/);
    assert.match(out[1]!, /^bench: run 2\/3: PyTorch a \(elapsed 0:00, ETA 0:00\)\n$/);
  });
  it('rewrites one line on a TTY and clears it at the end', () => {
    const { out, s } = sink(true);
    const p = new BenchProgress(s, 2);
    p.start('x');
    p.finish();
    p.start('y');
    p.end();
    assert.ok(out.slice(0, 2).every((l) => l.startsWith('\r') && l.endsWith('\x1b[K') && !l.includes('\n')));
    assert.equal(out[2], '\r\x1b[K');
  });
});
