// closed_pipe.test.ts: `mae-cuda parity DIR | head -1`: the reader goes away after the first line,
// and the process still exits with the command's own code: 1 when a fixture fails (it used to
// exit 0 on EPIPE), 0 when all pass; no stack trace on stderr.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const ours = fileURLToPath(new URL('../../mae/test/fixtures/parity', import.meta.url));

/** A folder of `copies` x our fixtures; with `broken`, each one's loss normalisation is flipped. */
function fixtures(copies: number, broken: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'mae-pipe-'));
  for (let i = 0; i < copies; i++)
    for (const name of readdirSync(ours)) {
      if (name.endsWith('.md')) continue;
      const to = join(dir, `${i}-${name}`);
      cpSync(join(ours, name), to, { recursive: true });
      if (!broken) continue;
      const cfg = JSON.parse(readFileSync(join(to, 'config.json'), 'utf8'));
      cfg.norm_pix_loss = !cfg.norm_pix_loss;
      writeFileSync(join(to, 'config.json'), JSON.stringify(cfg));
    }
  return dir;
}

/** Runs parity on dir, closing its stdout after the first chunk; the exit code and stderr. */
function parityIntoClosedPipe(dir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'parity', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.once('data', () => child.stdout.destroy()); // as `head -1` does
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed stdout (mae-cuda parity DIR | head -1)', function () {
  this.timeout(120000);

  it('keeps the exit code of a failing parity (1), with no stack trace', async () => {
    const r = await parityIntoClosedPipe(fixtures(3, true));
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|at .*\(/);
  });

  it('keeps the exit code of a passing parity (0)', async () => {
    const r = await parityIntoClosedPipe(fixtures(2, false));
    assert.equal(r.code, 0, r.stderr);
  });
});
