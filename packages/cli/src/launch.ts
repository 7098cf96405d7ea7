// launch.ts: `mae-cuda pretrain --gpus N [--nnodes M --node-rank R --master-addr H --master-port P]`
// starts one worker process per device of this node, with the torchrun variables set (RANK,
// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and supervises them: when a
// worker fails (non-zero exit or a signal) the others are stopped (SIGTERM, then SIGKILL after a
// grace period) and the launcher exits non-zero naming the rank that failed first and the cause
// (failure_order.ts); Ctrl-C (SIGINT or SIGTERM to the launcher) stops every worker. The workers
// die with the launcher, even a SIGKILLed one (lifeline.ts). CPU workers share the cores
// (OMP_NUM_THREADS).
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { type Death, failed, firstFailure, type StopSignal } from './failure_order.js';
import { LIFELINE_FD, lifelineEnv } from './lifeline.js';

export interface LaunchPlan {
  readonly perNode: number;
  readonly nnodes: number;
  readonly nodeRank: number;
  readonly masterAddr: string;
  readonly masterPort: number;
  readonly cpu: boolean;
}

/** The launcher's own flags, removed from the arguments the workers get. */
export const LAUNCH_FLAGS = ['--gpus', '--nnodes', '--node-rank', '--master-addr', '--master-port'];

export function workerArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (LAUNCH_FLAGS.includes(name)) {
      if (!a.includes('=')) i++; // its value
      continue;
    }
    out.push(a);
  }
  return out;
}

const GRACE_MS = 5000;

interface Worker {
  rank: number;
  proc: ChildProcess;
  death?: Death;
}

function startWorker(plan: LaunchPlan, local: number, args: readonly string[], script: string): Worker {
  const rank = plan.nodeRank * plan.perNode + local;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...lifelineEnv(),
    RANK: String(rank),
    LOCAL_RANK: String(local),
    WORLD_SIZE: String(plan.perNode * plan.nnodes),
    LOCAL_WORLD_SIZE: String(plan.perNode),
    MASTER_ADDR: plan.masterAddr,
    MASTER_PORT: String(plan.masterPort),
  };
  if (plan.cpu && process.env.OMP_NUM_THREADS === undefined)
    env.OMP_NUM_THREADS = String(Math.max(1, Math.floor(availableParallelism() / plan.perNode)));
  // descriptor 3 (LIFELINE_FD): one end of a socket pair whose other end only the launcher holds
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit', 'pipe'];
  const proc = spawn(process.execPath, [...process.execArgv, script, ...args], { env, stdio });
  return { rank, proc };
}

/** Runs the workers to the end; resolves with the exit code the launcher should return. */
export function launchWorkers(plan: LaunchPlan, args: readonly string[], script: string): Promise<number> {
  const workers = Array.from({ length: plan.perNode }, (_, local) => startWorker(plan, local, args, script));
  console.log(
    `mae-cuda pretrain: started ${plan.perNode} worker(s) of ${plan.perNode * plan.nnodes}: ` +
      workers.map((w) => `rank ${w.rank} pid ${w.proc.pid}`).join(', '),
  );
  return supervise(workers);
}

function supervise(workers: Worker[]): Promise<number> {
  return new Promise((resolve) => {
    let seq = 0;
    let stop: StopSignal | undefined;
    let cause: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const stopAll = () => {
      if (killTimer) return;
      for (const w of workers) if (!w.death?.status) w.proc.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const w of workers) if (!w.death?.status) w.proc.kill('SIGKILL');
      }, GRACE_MS);
      killTimer.unref();
    };
    const finish = () => {
      finished = true;
      if (killTimer) clearTimeout(killTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (cause) console.error(`mae-cuda pretrain: the job failed: ${cause}`);
      resolve(cause ? 1 : 0);
    };
    // run once the events of this turn of the loop are in (workers that died together); the
    // others are stopped at the first failure seen, and it is named once it is sure to be the first
    const review = () =>
      setImmediate(() => {
        if (finished) return;
        const deaths = workers.flatMap((w) => (w.death ? [w.death] : []));
        if (cause === undefined) {
          cause = firstFailure(
            deaths,
            stop,
            workers.every((w) => w.death?.status),
          );
          if (cause && !stop) console.error(`mae-cuda pretrain: ${cause}; stopping the other workers`);
        }
        if (deaths.some((d) => d.status && failed(d.status))) stopAll();
        if (workers.every((w) => w.death?.status)) finish();
      });
    const died = (w: Worker, status?: Death['status']) => {
      const d = w.death ?? { rank: w.rank, pid: w.proc.pid, seq: ++seq };
      w.death = status ? { ...d, status } : d;
      review();
    };
    const onSignal = (signal: NodeJS.Signals) => {
      stop ??= { signal, seq: ++seq };
      stopAll();
      review();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (const w of workers) {
      // closed by the kernel as the worker dies: the order of deaths (failure_order.ts). 'end'
      // comes in that order, before the exit statuses of the same turn of the loop ('close' later)
      const lifeline = w.proc.stdio[LIFELINE_FD] as Socket;
      const mark = () => w.death ?? died(w);
      lifeline
        .on('end', mark)
        .on('close', mark)
        .on('error', () => {});
      lifeline.resume();
      lifeline.unref(); // the exits keep the launcher going, not a pipe a grandchild may hold
      w.proc.on('exit', (code, signal) => died(w, { code, signal }));
    }
  });
}
