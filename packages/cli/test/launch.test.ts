// launch.test.ts: `mae-cuda pretrain --gpus 2 --device cpu` in child processes: two workers train
// to the weights of one process with the doubled batch; a worker killed mid-run stops the job with
// a message naming its rank and the last checkpoint intact, also when a peer's consequent failure
// reaches the launcher first; the workers die with a SIGKILLed launcher; bad launcher flags are
// refused before any worker starts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '@mae-cuda/mae';
import { workerArgs } from '../src/launch.js';
import { assertSameWeights } from './pretrain_helpers.js';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'mae-launch-'));
const SMALL = [
  '--embed-dim',
  '16',
  '--depth',
  '1',
  '--num-heads',
  '2',
  '--decoder-embed-dim',
  '16',
  '--limit',
  '256',
  '--preview',
  '0',
];
const port = () => String(34000 + Math.floor(Math.random() * 2000));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'pretrain', ...SMALL, ...args], { encoding: 'utf8', timeout: 150000 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's state letter from /proc ('R', 'S', 'Z' for a zombie, ...), undefined once gone. */
function procState(pid: number): string | undefined {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
const running = (pid: number) => ![undefined, 'Z', 'X'].includes(procState(pid));

/** Resolves once cond() holds, or after ms (false then). */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

const workerPids = (stdout: string) => [...stdout.matchAll(/rank \d pid (\d+)/g)].map((m) => Number(m[1]));

/** A long 2-worker CPU job in the background, with its output collected as it comes. */
function startJob() {
  const out = tmp();
  const args = ['pretrain', ...SMALL, '--gpus', '2', '--device', 'cpu', '--master-port', port()];
  const proc = spawn(
    process.execPath,
    [bin, ...args, '--epochs', '50', '--batch-size', '16', '--output-dir', out],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const job = {
    proc,
    out,
    stdout: '',
    stderr: '',
    exit: new Promise<number | null>((r) => proc.on('exit', (c) => r(c))),
    /** resolves once stdout (with `stderr`, either stream) matches, or after 2 minutes */
    async waitFor(re: RegExp, stderr = false) {
      const start = Date.now();
      while (!re.test(stderr ? job.stdout + job.stderr : job.stdout) && Date.now() - start < 120000)
        await new Promise((r) => setTimeout(r, 100));
    },
  };
  proc.stdout.on('data', (d) => {
    job.stdout += d;
  });
  proc.stderr.on('data', (d) => {
    job.stderr += d;
  });
  return job;
}

describe('mae-cuda pretrain --gpus (data-parallel launcher)', function () {
  this.timeout(180000);

  it('drops only the launcher flags from the workers arguments', () => {
    assert.deepEqual(
      workerArgs([
        'pretrain',
        '--gpus',
        '2',
        '--steps',
        '3',
        '--master-port=1234',
        '--nnodes',
        '1',
        '--seed',
        '4',
      ]),
      ['pretrain', '--steps', '3', '--seed', '4'],
    );
  });

  it('2 CPU workers of batch 16 train to the weights of 1 process of batch 32', async () => {
    const [a, b] = [tmp(), tmp()];
    const one = run('--steps', '3', '--batch-size', '32', '--output-dir', a);
    assert.equal(one.status, 0, one.stderr);
    const two = run(
      '--gpus',
      '2',
      '--device',
      'cpu',
      '--master-port',
      port(),
      '--steps',
      '3',
      '--batch-size',
      '16',
      '--output-dir',
      b,
    );
    assert.equal(two.status, 0, two.stderr);
    assert.match(two.stdout, /started 2 worker\(s\) of 2: rank 0 pid \d+, rank 1 pid \d+/);
    assert.match(two.stdout, /batch 16 x 1 x 2 ranks/);
    const y = await assertSameWeights(a, b);
    assert.equal(y.step, 3);
  });

  it('a killed worker stops the job, naming its rank; the checkpoint stays intact', async () => {
    const job = startJob();
    // once the first epoch's checkpoint is out, kill rank 1
    await job.waitFor(/epoch 0/);
    const pid = Number(/rank 1 pid (\d+)/.exec(job.stdout)?.[1]);
    assert.ok(pid > 0, job.stdout);
    process.kill(pid, 'SIGKILL');
    assert.notEqual(await job.exit, 0);
    assert.match(job.stderr, /rank 1 \(pid \d+\) was killed by SIGKILL; stopping the other workers/);
    assert.match(job.stderr, /the job failed: rank 1 \(pid \d+\) was killed by SIGKILL/);
    const ck = await loadCheckpoint(join(job.out, 'checkpoint-last.safetensors'));
    assert.ok(ck.step >= 1);
  });

  it('names the rank that failed first, not the peer that failed because of it', async function () {
    if (process.platform !== 'linux') this.skip(); // reads /proc
    const job = startJob();
    await job.waitFor(/epoch 0/);
    const [pid0, pid1] = workerPids(job.stdout);
    assert.ok(pid0 && pid1, job.stdout);
    // with the launcher stopped, rank 1 dies, then rank 0 fails on the lost connection: the
    // launcher gets both exits at once when it goes on, rank 0's first (in the order of its workers)
    process.kill(job.proc.pid!, 'SIGSTOP');
    try {
      process.kill(pid1, 'SIGKILL');
      assert.ok(await until(() => procState(pid0) === 'Z', 60000), `rank 0 did not fail: ${job.stderr}`);
    } finally {
      process.kill(job.proc.pid!, 'SIGCONT');
    }
    assert.notEqual(await job.exit, 0);
    assert.match(job.stderr, /rank 0: .*rank 1/, 'rank 0 failed because rank 1 was gone');
    assert.match(job.stderr, /the job failed: rank 1 \(pid \d+\) was killed by SIGKILL/);
    assert.doesNotMatch(job.stderr, /rank 0 \(pid \d+\) exited/);
  });

  it('the workers die with a SIGKILLed launcher', async function () {
    if (process.platform !== 'linux') this.skip(); // reads /proc
    const job = startJob();
    await job.waitFor(/step \d+\/|epoch 0/, true);
    const pids = workerPids(job.stdout);
    assert.equal(pids.length, 2, job.stdout);
    try {
      job.proc.kill('SIGKILL');
      await job.exit;
      await until(() => !pids.some(running), 5000);
      for (const pid of pids) assert.ok(!running(pid), `worker ${pid} outlived its launcher`);
    } finally {
      for (const pid of pids.filter(running)) process.kill(pid, 'SIGKILL');
    }
  });

  it('Ctrl-C (SIGINT to the launcher) stops every worker', async () => {
    const job = startJob();
    await job.waitFor(/step \d+\/|epoch 0/, true);
    const pids = workerPids(job.stdout);
    assert.equal(pids.length, 2, job.stdout);
    job.proc.kill('SIGINT');
    assert.notEqual(await job.exit, 0);
    assert.match(job.stderr, /the job failed: stopped by SIGINT/);
    for (const pid of pids)
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is still running`);
  });

  it('refuses bad launcher flags before starting anything', () => {
    const cases: [string[], RegExp][] = [
      [['--gpus', '0'], /--gpus: must be an integer from 1 to 1024/],
      [['--gpus', 'two'], /--gpus: must be an integer/],
      [['--gpus', '2', '--nnodes', '2'], /--master-addr: a job of several nodes needs the address of node 0/],
      [['--gpus', '2', '--device', 'cuda'], /--device: cuda is not available here|CUDA device|NCCL/],
      [
        ['--gpus', '2', '--node-rank', '3', '--nnodes', '2', '--master-addr', 'h'],
        /--node-rank: must be an integer from 0 to 1/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = run(...args, '--output-dir', join(tmp(), 'never'));
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stdout, /started/);
    }
  });
});
