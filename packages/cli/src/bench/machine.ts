// machine.ts: what the bench commands check of the machine before they measure: the CPU's measured
// peak (every OpenMP thread running vector multiply-adds with the CPU kernels' build: the
// denominator of CPU MFU figures), and whether other work is running, so that figures are not taken
// on a loaded machine by mistake: the busy share of the CPUs over half a second (Linux, /proc/stat,
// while this process sleeps), else the load average.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildInfo, type CpuIsa, cpuPeakGflops } from '@mae-cuda/native';

export interface CpuPeak {
  readonly gflops: number;
  readonly isa: CpuIsa;
  readonly threads: number;
}

const ISA_FMA: Record<CpuIsa, string> = {
  default: 'SSE2 multiply-add',
  avx2: 'AVX2 FMA',
  avx512: 'AVX-512 FMA',
};

/** Windows the peak is measured in; the best counts (PEAK_WINDOWS). */
const PEAK_WINDOWS = 5;

/**
 * The CPU's f32 peak as measured now with the kernels' build and thread count: the best of
 * PEAK_WINDOWS windows of `seconds` each. A peak is what the cores reach at best: one window
 * caught by another tenant's burst or a clock dip would understate it (a shared host's single
 * half-second probe once read 166 GFLOP/s where every other read 216-233), and every CPU row's MFU
 * with it.
 */
export function measureCpuPeak(seconds = 0.1): CpuPeak {
  const b = buildInfo();
  let gflops = 0;
  for (let i = 0; i < PEAK_WINDOWS; i++) gflops = Math.max(gflops, cpuPeakGflops(seconds));
  return { gflops, isa: b.cpuIsa, threads: b.cpuThreads };
}

export function describePeak(p: CpuPeak): string {
  const threads = `${p.threads} thread${p.threads === 1 ? '' : 's'}`;
  return `CPU peak ${p.gflops.toFixed(1)} GFLOP/s f32 (measured: ${threads} of ${ISA_FMA[p.isa]}, best of ${PEAK_WINDOWS} windows)`;
}

/** The CPUs' idle and total time so far (Linux), or undefined where /proc/stat is not there. */
function cpuTimes(): { idle: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle: fields[3]! + (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** The share of the CPUs busy over the next `ms` (while this process sleeps), or undefined. */
export async function busyShare(ms = 500): Promise<number | undefined> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  if (!a || !b || b.total <= a.total) return undefined;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** A warning when other work is running (more than `limit` of the CPUs busy), else undefined. */
export async function busyWarning(limit = 0.15): Promise<string | undefined> {
  const cpus = availableParallelism();
  const load = loadavg()[0]!;
  const share = await busyShare();
  const busy = share === undefined ? load / cpus > limit * 4 : share > limit;
  if (!busy) return undefined;
  const what =
    share === undefined
      ? `load average ${load.toFixed(2)} on ${cpus} CPUs`
      : `${(share * 100).toFixed(0)}% of its ${cpus} CPUs in use over the last half second, load average ${load.toFixed(2)}`;
  return `warning: the machine is busy (${what}): other work skews the figures; measure on a quiet machine`;
}
