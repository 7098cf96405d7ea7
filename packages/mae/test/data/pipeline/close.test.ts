// close.test.ts: closing the loader while its workers are still decoding, the way a run stopped by
// `--bad-data fail` does, ends the workers without taking the process down (the addon drops an
// error it can no longer throw in a worker being terminated, rather than aborting).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./close_while_failing.ts', import.meta.url));

describe('data/pipeline: close while the workers decode', () => {
  it('survives 30 rounds of closing a failing loader mid-batch', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '30'], {
      encoding: 'utf8',
      timeout: 300000,
    });
    assert.equal(r.status, 0, `exit ${r.status} (${r.signal ?? 'no signal'}):\n${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, /^ok$/m);
  });
});
