// lifeline.test.ts: a worker of our launcher dies with it (lifeline.ts), each way on its own: the
// socket pair (the launcher's end closes: the worker exits), the parent-death signal (a worker
// busy in a synchronous loop, which never reads the socket, is killed when its launcher is), the
// launcher gone before the worker started; and the lifeline neither keeps a finished worker alive
// nor touches workers of other launchers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const lifeline = fileURLToPath(new URL('../src/lifeline.ts', import.meta.url));
const importLifeline = `const l = await import(${JSON.stringify(lifeline)});`;
const nodeArgs = (code: string) => ['--import', 'tsx', '--input-type=module', '-e', code];

/** A child running code with a socket pair on fd 3 (the test holds the other end). */
function child(code: string, env: NodeJS.ProcessEnv = {}) {
  const proc = spawn(process.execPath, nodeArgs(code), {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const out = { stdout: '', stderr: '' };
  proc.stdout!.on('data', (d) => {
    out.stdout += d;
  });
  proc.stderr!.on('data', (d) => {
    out.stderr += d;
  });
  const exit = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  /** the exit code, or 'running' if it has not exited within ms */
  const exited = (ms = 10000) =>
    Promise.race([exit, new Promise<'running'>((r) => setTimeout(() => r('running'), ms).unref())]);
  return { proc, out, exit, exited };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function running(pid: number): boolean {
  try {
    return !/\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const stop = (p: ChildProcess) => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL');

describe('lifeline: workers die with their launcher', function () {
  this.timeout(60000);

  it('a worker exits when the launcher end of the socket pair closes', async () => {
    // a busy event loop (a timer) as in training, so only the lifeline can end it
    const c = child(
      `${importLifeline} l.watchLifeline(3, 1234); setInterval(() => {}, 1000); console.log('ready');`,
    );
    try {
      assert.ok(await until(() => c.out.stdout.includes('ready'), 30000), c.out.stderr);
      (c.proc.stdio[3] as Readable).destroy();
      assert.equal(await c.exited(), 1);
      assert.match(c.out.stderr, /the launcher \(pid 1234\) is gone; this worker stops/);
    } finally {
      stop(c.proc);
    }
  });

  it('does not keep a finished worker alive; takes its variables out of the environment', async () => {
    const code = `${importLifeline} l.followLauncher(); console.log(JSON.stringify([process.env.MAE_LAUNCHER_PID, process.env.MAE_LAUNCHER_FD]));`;
    const c = child(code, { MAE_LAUNCHER_PID: String(process.pid), MAE_LAUNCHER_FD: '3' });
    try {
      assert.equal(await c.exited(), 0, c.out.stderr); // while the test still holds its end
      assert.equal(c.out.stdout.trim(), '[null,null]');
    } finally {
      stop(c.proc);
    }
  });

  it('exits at once when the launcher is gone before it started', async () => {
    const c = child(`${importLifeline} l.followLauncher(); console.log('went on');`, {
      MAE_LAUNCHER_PID: '1',
      MAE_LAUNCHER_FD: '3',
    });
    assert.equal(await c.exited(), 1);
    assert.match(c.out.stderr, /the launcher \(pid 1\) is gone/);
    assert.doesNotMatch(c.out.stdout, /went on/);
  });

  it('leaves a worker of another launcher (no MAE_LAUNCHER_PID) alone', () => {
    const env = { ...process.env };
    delete env.MAE_LAUNCHER_PID;
    const r = spawnSync(
      process.execPath,
      nodeArgs(`${importLifeline} l.followLauncher(); console.log('went on');`),
      {
        env,
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /went on/);
  });

  it('a worker busy in a synchronous loop dies with a SIGKILLed launcher (PR_SET_PDEATHSIG)', async function () {
    if (process.platform !== 'linux') this.skip();
    // the launcher: starts the worker with the lifeline, prints its pid, and dies once it is busy
    const worker = `${importLifeline} l.followLauncher(); console.log('busy'); for (;;);`;
    const launcher = `
      import { spawn } from 'node:child_process';
      const w = spawn(process.execPath, ${JSON.stringify(nodeArgs(worker))}, {
        stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
        env: { ...process.env, MAE_LAUNCHER_PID: String(process.pid), MAE_LAUNCHER_FD: '3' },
      });
      console.log('worker ' + w.pid);
      w.stdout.on('data', () => process.kill(process.pid, 'SIGKILL'));`;
    const c = child(launcher);
    await until(() => /worker \d+/.test(c.out.stdout), 30000);
    const pid = Number(/worker (\d+)/.exec(c.out.stdout)?.[1]);
    try {
      assert.ok(pid > 0, c.out.stdout + c.out.stderr);
      await c.exited();
      assert.ok(await until(() => !running(pid), 5000), `worker ${pid} outlived its launcher`);
    } finally {
      if (pid > 0 && running(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
