// openmp_env.ts: the OpenMP settings of this process, checked and completed before the addon
// loads (libgomp, loaded with it, reads them once, then): OMP_NUM_THREADS must be a thread count
// from 1 to 4 x the processors available, or a comma-separated list of them (OpenMP's nested
// levels; the kernels use the first); OMP_WAIT_POLICY 'passive' or 'active'. With neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT set, idle OpenMP threads wait passively after a short spin
// (OMP_WAIT_POLICY=passive, and for libgomp GOMP_SPINCOUNT=30000, some tens of microseconds):
// libgomp's own default spins 300,000 times, which starves any other busy process on the cores and
// is starved by it, while a pure passive wait (no spin) costs a fifth of the speed of an idle
// machine, as every parallel region then wakes sleeping threads (scripts/contention-bench.sh;
// docs/PERFORMANCE.md). Imports nothing of the addon, so the CLI can check the settings before
// anything loads.
import { availableParallelism } from 'node:os';

/** A bad OpenMP environment variable; the message names it. */
export class OpenMpSettingError extends RangeError {
  override name = 'OpenMpSettingError';
}

/** The most OpenMP threads accepted: 4 x the processors this process may run on. */
export function maxCpuThreads(): number {
  return 4 * availableParallelism();
}

function checkThreadCount(value: string): void {
  const max = maxCpuThreads();
  const ok = value.split(',').every((part) => {
    const t = part.trim();
    return /^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= max;
  });
  if (!ok)
    throw new OpenMpSettingError(
      `OMP_NUM_THREADS=${JSON.stringify(value)}: must be a thread count from 1 to ${max} ` +
        `(4 x the ${max / 4} processors available), or a comma-separated list of them`,
    );
}

function checkWaitPolicy(value: string): void {
  if (!/^\s*(active|passive)\s*$/i.test(value))
    throw new OpenMpSettingError(
      `OMP_WAIT_POLICY=${JSON.stringify(value)}: must be 'passive' (idle threads sleep) or 'active' (they spin)`,
    );
}

/** Throws an OpenMpSettingError naming the first bad OMP_NUM_THREADS or OMP_WAIT_POLICY. */
export function checkOpenMpEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.OMP_NUM_THREADS !== undefined) checkThreadCount(env.OMP_NUM_THREADS);
  if (env.OMP_WAIT_POLICY !== undefined) checkWaitPolicy(env.OMP_WAIT_POLICY);
}

/** libgomp's spins before an idle thread sleeps, when the user set no wait policy. */
export const DEFAULT_SPIN_COUNT = 30000;

/**
 * Checks the settings; unless the user chose a wait policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT),
 * makes it passive after a short spin.
 */
export function prepareOpenMpEnv(env: NodeJS.ProcessEnv = process.env): void {
  checkOpenMpEnv(env);
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return;
  env.OMP_WAIT_POLICY = 'passive';
  env.GOMP_SPINCOUNT = String(DEFAULT_SPIN_COUNT);
}
