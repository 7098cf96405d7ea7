// `mae-cuda parity`: passes on every shared fixture of the official implementation, and fails
// when a semantic detail of the fixture's configuration is changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('passes on our own fixtures (other channels, sizes, ratios, norm_pix_loss off, encoder mask token)', () => {
    const r = run(ours);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/ checks, 0 over tolerance/g) ?? []).length, 4, r.stdout);
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

describe('mae-cuda parity: options and unusable fixtures', function () {
  this.timeout(120000);
  /** A copy of our first fixture, changed by edit. */
  const copy = (edit: (dir: string) => void = () => {}) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'parity-bad-')), 'case');
    cpSync(join(ours, 'grey28-p7-plain'), dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const withConfig = (change: (cfg: Record<string, unknown>) => void) =>
    copy((dir) => {
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      change(cfg);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    });
  const refused = (dir: string, message: RegExp) => {
    const r = run(dir);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n +at /, 'no stack trace');
  };

  it('--all before the folder is a switch, not the folder (it took DIR as its value)', () => {
    const r = run('--all', join(ours, 'grey28-p7-plain'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {3}grad\.blocks\.0\.attn\.qkv\.weight /m);
    const json = run('--json', '--all=false', join(ours, 'grey28-p7-plain'));
    assert.equal(json.status, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).ok, true);
  });

  it('--help says how switches are written', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: mae-cuda parity <dir> \[--all\] \[--json\]$/m);
    assert.match(
      r.stdout,
      /^Switches: --flag turns one on; --flag=false \(or --flag false\) turns it off\.$/m,
    );
  });

  it('names config.json when it is empty or not JSON', () => {
    const dir = copy((d) => writeFileSync(join(d, 'config.json'), ''));
    refused(
      dir,
      new RegExp(
        `^mae-cuda parity: ${dir}/config\\.json: not valid JSON \\(Unexpected end of JSON input\\)$`,
        'm',
      ),
    );
  });

  it('names the file and the field of a bad or missing setting', () => {
    refused(
      withConfig((c) => {
        c.img_size = 'big';
      }),
      /config\.json: field img_size: expected number, received string$/m,
    );
    refused(
      withConfig((c) => {
        delete c.depth;
        (c.adamw as { betas: unknown[] }).betas = [0.9];
      }),
      /config\.json: field depth is missing \(number expected\); field adamw\.betas\[1\] is missing/m,
    );
    refused(
      withConfig((c) => {
        c.patch_size = 5;
      }),
      /config\.json: field patch_size: img_size 28 is not divisible by patch_size 5$/m,
    );
  });

  it('refuses a folder that is a file, lacks files, or holds a broken safetensors file', () => {
    refused(
      join(ours, 'README.md'),
      /README\.md is not a folder \(give a fixture folder, or a folder of them\)$/m,
    );
    const lacking = copy((d) => rmSync(join(d, 'inputs.safetensors')));
    refused(
      lacking,
      new RegExp(
        `^mae-cuda parity: ${lacking} lacks inputs\\.safetensors \\(a fixture holds config\\.json, `,
        'm',
      ),
    );
    const noConfig = copy((d) => rmSync(join(d, 'config.json')));
    refused(noConfig, /lacks config\.json/);
    const truncated = copy((d) => writeFileSync(join(d, 'weights.safetensors'), 'short'));
    refused(
      truncated,
      new RegExp(`^mae-cuda parity: .*${truncated}/weights\\.safetensors: not a safetensors file`, 'm'),
    );
  });

  it('runs the other fixtures of a folder when one is unusable, and exits 2', () => {
    const parent = mkdtempSync(join(tmpdir(), 'parity-mixed-'));
    cpSync(join(ours, 'grey28-p7-plain'), join(parent, 'a-good'), { recursive: true });
    cpSync(join(ours, 'grey28-p7-plain'), join(parent, 'b-bad'), { recursive: true });
    writeFileSync(join(parent, 'b-bad', 'config.json'), '{');
    const r = run(parent);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /a-good: 108 checks, 0 over tolerance/);
    assert.match(r.stderr, /b-bad\/config\.json: not valid JSON/);
  });
});
