// launch.ts: `mae-cuda pretrain --gpus N [--nnodes M --node-rank R --master-addr H --master-port P]`
// starts one worker process per device of this node, with the torchrun variables set (RANK,
// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and supervises them: when a
// worker fails (non-zero exit or a signal) the others are stopped (SIGTERM, then SIGKILL after a
// grace period) and the launcher exits non-zero naming the rank and the cause; Ctrl-C (SIGINT or
// SIGTERM to the launcher) stops every worker. CPU workers share the cores (OMP_NUM_THREADS).
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

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

/** Runs the workers to the end; resolves with the exit code the launcher should return. */
export function launchWorkers(plan: LaunchPlan, args: readonly string[], script: string): Promise<number> {
  const world = plan.perNode * plan.nnodes;
  const threads = Math.max(1, Math.floor(availableParallelism() / plan.perNode));
  const children: { rank: number; proc: ChildProcess; done: boolean }[] = [];
  for (let local = 0; local < plan.perNode; local++) {
    const rank = plan.nodeRank * plan.perNode + local;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RANK: String(rank),
      LOCAL_RANK: String(local),
      WORLD_SIZE: String(world),
      LOCAL_WORLD_SIZE: String(plan.perNode),
      MASTER_ADDR: plan.masterAddr,
      MASTER_PORT: String(plan.masterPort),
    };
    if (plan.cpu && process.env.OMP_NUM_THREADS === undefined) env.OMP_NUM_THREADS = String(threads);
    const proc = spawn(process.execPath, [...process.execArgv, script, ...args], { env, stdio: 'inherit' });
    children.push({ rank, proc, done: false });
  }
  console.log(
    `mae-cuda pretrain: started ${plan.perNode} worker(s) of ${world}: ` +
      children.map((c) => `rank ${c.rank} pid ${c.proc.pid}`).join(', '),
  );
  return new Promise((resolve) => {
    let failed: string | undefined;
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stopAll = () => {
      if (stopping) return;
      stopping = true;
      for (const c of children) if (!c.done) c.proc.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const c of children) if (!c.done) c.proc.kill('SIGKILL');
      }, GRACE_MS);
      killTimer.unref();
    };
    const onSignal = (sig: NodeJS.Signals) => {
      failed ??= `stopped by ${sig}`;
      stopAll();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (const c of children) {
      c.proc.on('exit', (code, signal) => {
        c.done = true;
        if ((code !== 0 || signal) && !stopping) {
          failed = `rank ${c.rank} (pid ${c.proc.pid}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`;
          console.error(`mae-cuda pretrain: ${failed}; stopping the other workers`);
          stopAll();
        }
        if (children.every((x) => x.done)) {
          if (killTimer) clearTimeout(killTimer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (failed) console.error(`mae-cuda pretrain: the job failed: ${failed}`);
          resolve(failed ? 1 : 0);
        }
      });
    }
  });
}
