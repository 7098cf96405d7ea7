// pretrain_faults.test.ts: `mae-cuda pretrain` under faults, in child processes: a diverging run
// (--blr 1e6, --lr 1e308) exits non-zero leaving no non-finite checkpoint; a second run into one
// output dir is refused; absurd numbers are refused naming the flag; a bad --resume file; a full
// disk (a small tmpfs, or RLIMIT_FSIZE where mounting is not allowed) and a read-only output dir;
// kill -9 at random points, many of them during a checkpoint write. Each asserts the message, the
// exit code and that the last checkpoint is intact.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, readSafetensors } from '@mae-cuda/mae';
import { bin, mountTmpfs, SMALL, tmp, unmount } from './pretrain_helpers.js';

/** the CLI, under a prefix command (e.g. prlimit) when given */
function run(args: string[], prefix: string[] = []) {
  const [cmd, ...rest] = [...prefix, process.execPath, bin, 'pretrain', ...args];
  return spawnSync(cmd!, rest, { encoding: 'utf8', timeout: 120000 });
}
const FAST = [...SMALL, '--limit', '256', '--batch-size', '32', '--preview', '0'];
const CKPT = 'checkpoint-last.safetensors';

async function assertFiniteOrAbsent(path: string): Promise<void> {
  if (!existsSync(path)) return;
  for (const [name, t] of (await readSafetensors(path)).tensors)
    if (t.dtype === 'F32') assert.ok(t.data.every(Number.isFinite), `${path}: ${name} is not finite`);
}
/** Fills the tmpfs at dir to the last byte; no prefix command is needed then. */
function fillUp(dir: string): string[] {
  for (let size = 1 << 20; size >= 1; size >>= 1) {
    for (let k = 0; ; k++) {
      try {
        writeFileSync(join(dir, `fill-${size}-${k}`), Buffer.alloc(size), { flag: 'wx' });
      } catch {
        break;
      }
    }
  }
  return [];
}
const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

describe('mae-cuda pretrain under faults', function () {
  this.timeout(240000);

  it('a diverging run exits non-zero and leaves a finite checkpoint or none (--blr 1e6, --steps 2 --lr 1e308)', async () => {
    for (const args of [
      ['--blr', '1e6', '--epochs', '3'],
      ['--steps', '2', '--lr', '1e308'],
    ]) {
      const out = tmp();
      const r = run([...FAST, ...args, '--output-dir', out]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /(loss is (NaN|-?Infinity)|weights are not finite) .*stopping/, args.join(' '));
      assert.doesNotMatch(r.stdout, /^done/m);
      await assertFiniteOrAbsent(join(out, CKPT));
      assert.deepEqual(temps(out), []);
    }
  });

  it('a second run into the same output dir is refused; --resume auto and --overwrite say what they do', async () => {
    const out = tmp();
    assert.equal(run([...FAST, '--steps', '2', '--output-dir', out]).status, 0);
    const before = readFileSync(join(out, CKPT));
    const again = run([...FAST, '--steps', '1', '--output-dir', out]);
    assert.equal(again.status, 2, again.stderr);
    assert.match(
      again.stderr,
      /--output-dir: .* already holds .*checkpoint-last\.safetensors \(step 2, epoch 0\)/,
    );
    assert.match(again.stderr, /--resume .*--resume auto.*--overwrite/);
    assert.ok(readFileSync(join(out, CKPT)).equals(before));
    const auto = run([...FAST, '--steps', '3', '--output-dir', out, '--resume', 'auto']);
    assert.equal(auto.status, 0, auto.stderr);
    assert.match(auto.stdout, /--resume auto: continuing .* \(step 2, epoch 0\)/);
    assert.equal((await loadCheckpoint(join(out, CKPT))).step, 3);
    const over = run([...FAST, '--steps', '1', '--output-dir', out, '--overwrite']);
    assert.equal(over.status, 0, over.stderr);
    assert.match(over.stdout, /--overwrite: removed/);
    assert.equal((await loadCheckpoint(join(out, CKPT))).step, 1);
  });

  it('refuses absurd numbers naming the flag, before any work', () => {
    const out = join(tmp(), 'never');
    const cases: [string[], RegExp][] = [
      [['--blr', '1e400'], /--blr: must be a finite number, got Infinity/],
      [['--epochs', '1e12'], /--epochs: must be at most 1000000/],
      [['--min-lr', '1'], /--min-lr: min_lr 1 is above the peak lr/],
      [['--keep-checkpoints', '-1'], /--keep-checkpoints/],
      [['--save-every', '0'], /--save-every: must be at least 1/],
      [['--output-dir', '/dev/null/x'], /--output-dir: .* is not writable/],
    ];
    for (const [args, message] of cases) {
      const r = run([...FAST, ...(args.includes('--output-dir') ? [] : ['--output-dir', out]), ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.ok(!existsSync(join(out, CKPT)));
    }
  });

  it('refuses a --resume file that is not a checkpoint (text, a 3 GiB file of garbage) naming it', () => {
    const dir = tmp();
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const big = join(dir, 'big.safetensors');
    const fd = openSync(big, 'w');
    const junk = Buffer.from('\xde\xad\xbe\xef\x01\x02\x03\x04 garbage', 'latin1');
    writeSync(fd, junk, 0, junk.length, 0);
    writeSync(fd, Buffer.from('end'), 0, 3, 3 * 2 ** 30);
    closeSync(fd);
    assert.ok(statSync(big).size > 3 * 2 ** 30);
    try {
      for (const f of [text, big]) {
        const r = run([...FAST, '--resume', f, '--output-dir', join(dir, 'out')]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`--resume: .*${f.replace(/[.]/g, '\\.')}`));
        assert.doesNotMatch(r.stderr, /at .*\.ts:\d+|2 GiB/);
      }
    } finally {
      rmSync(big);
    }
    // a checkpoint of another architecture is refused up front, naming the fields that differ
    const other = join(dir, 'other');
    assert.equal(run([...FAST, '--steps', '1', '--output-dir', other]).status, 0);
    const wider = FAST.map((a, i) => (FAST[i - 1] === '--embed-dim' ? '32' : a));
    const r = run([...wider, '--resume', join(other, CKPT), '--output-dir', join(dir, 'o2')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--resume: checkpoint .* was made for another model: embed_dim 16 \(asked: 32\)/);
  });

  it('a full disk: the checkpoint write fails naming the file, the last checkpoint is intact', async () => {
    const dir = tmp();
    const mount = mountTmpfs(dir, 4 << 20);
    try {
      const out = join(dir, 'out');
      assert.equal(run([...FAST, '--steps', '2', '--output-dir', out]).status, 0);
      const before = readFileSync(join(out, CKPT));
      let prefix: string[] = [];
      if (mount) {
        // fill the tmpfs but for half a checkpoint
        const free = Number(
          spawnSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' }).stdout.split('\n')[1],
        );
        writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, free - Math.floor(before.length / 2))));
      } else prefix = ['prlimit', `--fsize=${Math.floor(before.length / 2)}`];
      const r = run([...FAST, '--steps', '4', '--output-dir', out, '--resume', 'auto'], prefix);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /checkpoint-last\.safetensors.*(ENOSPC|EFBIG|no space|too large)/i);
      assert.ok(readFileSync(join(out, CKPT)).equals(before), 'the checkpoint changed');
      assert.deepEqual(temps(out), []);
      // a disk with no room at all: refused before any work, naming the output dir
      const full = mount ? fillUp(dir) : ['prlimit', '--fsize=1'];
      const r2 = run([...FAST, '--steps', '1', '--output-dir', join(out, 'new')], full);
      assert.equal(r2.status, 2, r2.stdout + r2.stderr);
      assert.match(r2.stderr, /--output-dir: .* is not writable: .*(ENOSPC|EFBIG)/);
    } finally {
      if (mount) unmount(dir);
    }
  });

  it('a read-only output dir is refused before any work', () => {
    const dir = tmp();
    const mount = mountTmpfs(dir, 1 << 20, true);
    try {
      const r = run([...FAST, '--steps', '1', '--output-dir', join(dir, mount ? '.' : 'sub')]);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--output-dir: .* is not writable: (EROFS|EACCES)/);
    } finally {
      if (mount) unmount(dir);
    }
  });

  it('kill -9 at random points (often inside a checkpoint write) never leaves a bad checkpoint', async () => {
    const out = tmp();
    // 2 steps an epoch, a checkpoint after each; a model wide enough for the write to take a while
    const args = [
      '--embed-dim',
      '192',
      '--depth',
      '4',
      '--num-heads',
      '3',
      '--decoder-embed-dim',
      '128',
      '--decoder-depth',
      '2',
      '--limit',
      '64',
      '--batch-size',
      '32',
      '--preview',
      '0',
      '--epochs',
      '400',
      '--warmup-epochs',
      '1',
      '--output-dir',
      out,
      '--resume',
      'auto',
    ];
    let killedInWrite = 0;
    for (let k = 0; k < 6; k++) {
      const child = spawn(process.execPath, [bin, 'pretrain', ...args], { stdio: 'ignore' });
      const delay = 2500 + Math.random() * 2500;
      const started = Date.now();
      const inWrite = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => {
          const writing = existsSync(out) && temps(out).some((f) => f.startsWith(CKPT));
          if ((k % 2 === 0 && writing && Date.now() - started > 2000) || Date.now() - started > delay) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve(writing);
          }
        }, 2);
      });
      await new Promise((r) => child.once('exit', r));
      if (inWrite) killedInWrite++;
      if (existsSync(join(out, CKPT))) await loadCheckpoint(join(out, CKPT)); // throws if torn
    }
    assert.ok(killedInWrite >= 1, 'no kill landed inside a checkpoint write');
    // the next run resumes the last good checkpoint and removes the killed writers' temp files
    const r = run([...args, '--steps', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(temps(out), []);
  });
});
