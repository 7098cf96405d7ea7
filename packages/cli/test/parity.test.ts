// `mae-cuda parity`: passes on every shared fixture of the official implementation, and fails
// when a semantic detail of the fixture's configuration is changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../bin/mae-cuda.js', import.meta.url).pathname;
const fixtures = new URL('../../../../shared/fixtures/mae-parity', import.meta.url).pathname;
const ours = new URL('../../mae/test/fixtures/parity', import.meta.url).pathname;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'parity', ...args], { encoding: 'utf8' });

describe('mae-cuda parity', function () {
  this.timeout(300000);
  before(function () {
    if (!existsSync(fixtures)) {
      console.log(`    skipped: no fixtures at ${fixtures}`);
      this.skip();
    }
  });

  it('passes on every shared fixture', () => {
    const dirs = readdirSync(fixtures, { withFileTypes: true }).filter((e) => e.isDirectory());
    assert.ok(dirs.length > 0);
    for (const d of dirs) {
      const r = run(join(fixtures, d.name));
      assert.equal(r.status, 0, `${d.name}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, / checks, 0 over tolerance/);
    }
  });

  it('passes on our own fixtures (other channels, sizes, ratios, norm_pix_loss off)', () => {
    const r = run(ours);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/ checks, 0 over tolerance/g) ?? []).length, 3, r.stdout);
  });

  it('fails when the loss normalisation is changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parity-'));
    const src = join(
      fixtures,
      readdirSync(fixtures).find((n) => existsSync(join(fixtures, n, 'config.json')))!,
    );
    cpSync(src, dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    cfg.norm_pix_loss = !cfg.norm_pix_loss;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const r = run(dir);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL loss /);
  });

  it('refuses a folder that is not there', () => {
    const r = run('/nonexistent/fixtures');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /does not exist/);
  });
});
