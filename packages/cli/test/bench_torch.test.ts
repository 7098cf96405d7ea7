// bench_torch.test.ts: the PyTorch reference runner says what failed: the command, its exit code or
// signal and the last lines of its stderr; an executable that does not exist or cannot run; one
// that is not a Python with torch; a script that writes no JSON, invalid JSON or JSON without the
// fields read. `mae-cuda bench --pytorch /bin/false` is refused before any work (it printed
// "undefined"). Fake "pythons" are shell scripts; no torch is needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '@mae-cuda/mae';
import { checkPython, commandLine, runTorch } from '../src/bench/torch.js';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mae-fake-python-'));

/** An executable shell script in dir. */
function fake(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The path after --json in the script's arguments (where the reference writes its result). */
const JSON_OUT = 'out=; prev=; for a in "$@"; do [ "$prev" = --json ] && out=$a; prev=$a; done';

const row = { model: 'mae_tiny_28', batch: 4, device: 'cpu', precision: 'f32' } as BenchResult;
const torch = (python: string) =>
  runTorch({ python, script: 'mae_step.py', steps: 2, warmup: 1, compile: false, threads: 2 }, row);

describe('the PyTorch reference runner', () => {
  it('names the command, its exit code and the last lines of its stderr', () => {
    const py = fake('exit3', 'for i in $(seq 1 30); do echo "line $i" >&2; done; exit 3');
    assert.throws(
      () => torch(py),
      (e: Error) =>
        e.message.startsWith(
          `the PyTorch reference failed: ${py} mae_step.py --model mae_tiny_28 --batch 4 --device cpu`,
        ) &&
        /: it exited with code 3; the last lines of its stderr:\n {4}line 19\n[\s\S]*\n {4}line 30$/.test(
          e.message,
        ) &&
        !/line 18\n/.test(e.message),
    );
  });

  it('says when it was killed by a signal, or printed nothing', () => {
    assert.throws(
      () => torch(fake('killed', 'kill -9 $$')),
      /: it was killed by SIGKILL; it printed nothing on stderr$/,
    );
    assert.throws(
      () => torch('/bin/false'),
      /\/bin\/false mae_step\.py .*: it exited with code 1; it printed nothing on stderr$/,
    );
  });

  it('says when the executable does not exist or cannot be run', () => {
    assert.throws(() => torch('/nonexistent/python3'), /\/nonexistent\/python3 does not exist/);
    const text = join(dir, 'not-executable');
    writeFileSync(text, 'hello');
    assert.throws(() => torch(text), /not-executable cannot be run \(not an executable file\)/);
  });

  it('says when it wrote no JSON, invalid JSON, or JSON without the fields read', () => {
    assert.throws(
      () => torch('/bin/true'),
      /^Error: the PyTorch reference \(\/bin\/true .*\) exited with 0 but wrote no JSON to \S+r\.json$/,
    );
    const garbage = fake('garbage', `${JSON_OUT}; echo 'Traceback, not JSON' > "$out"`);
    assert.throws(() => torch(garbage), /wrote invalid JSON, beginning "Traceback, not JSON\\n"$/);
    const partial = fake(
      'partial',
      `${JSON_OUT}; echo '{"images_per_s": "fast", "torch_version": "2.4"}' > "$out"`,
    );
    assert.throws(
      () => torch(partial),
      /wrote JSON without what is read: images_per_s: .*; step_ms: .*; compile: /,
    );
  });

  it('reads a result that has the fields', () => {
    const s = '{"median": 2, "min": 1, "max": 3, "p25": 1.5, "p75": 2.5}';
    const good = fake(
      'good',
      `${JSON_OUT}; echo '{"images_per_s": 2000, "step_ms": ${s}, "torch_version": "2.4", "compile": false}' > "$out"`,
    );
    assert.equal(torch(good).images_per_s, 2000);
  });

  it('checkPython: a --pytorch that is not a Python with torch is refused naming the flag', () => {
    assert.match(
      checkPython('/bin/false')!,
      /^--pytorch: \/bin\/false -c .* failed: it exited with code 1; .*give a Python with torch/,
    );
    assert.match(checkPython('/bin/true')!, /^--pytorch: \/bin\/true is not a Python with torch/);
    assert.match(checkPython('no-such-python-here')!, /no-such-python-here does not exist/);
    assert.equal(checkPython(fake('torchy', 'echo "torch 2.4.0"')), undefined);
  });

  it('commandLine quotes what a shell would split', () => {
    assert.equal(
      commandLine('python3', ['-c', "print('x')", 'a/b.py']),
      `python3 -c 'print('\\''x'\\'')' a/b.py`,
    );
  });

  it('mae-cuda bench --pytorch /bin/false is refused before any benchmark (no "undefined")', function () {
    this.timeout(60000);
    const r = spawnSync(process.execPath, [bin, 'bench', '--batch', '2', '--pytorch', '/bin/false'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^mae-cuda bench: --pytorch: \/bin\/false -c .* failed: it exited with code 1/m);
    assert.doesNotMatch(r.stderr, /undefined|^bench: run/m);
  });
});
