// available.ts: how much memory a benchmark may use on a device. CPU: the memory the kernel says
// is available (os.freemem(), MemAvailable on Linux), or less when the process's cgroup has a
// limit (cgroup v2 memory.max - memory.current, or v1 memory.limit_in_bytes - usage_in_bytes).
// CUDA: the card's total memory less CUDA_RESERVE for the context and the libraries' workspaces,
// which the allocator does not see (the native addon reports no free memory, so what other
// processes hold is not subtracted).
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { type DeviceSpec, devices } from '@mae-cuda/native';

/** Device memory left for the CUDA context and library workspaces (outside the estimate). */
export const CUDA_RESERVE = 2 ** 30;

export interface Available {
  readonly bytes: number;
  /** where the figure comes from, for messages */
  readonly source: string;
}

/** A whole number of bytes from a cgroup file; undefined when absent or unlimited ("max"). */
function readBytes(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    const n = Number(text);
    // v1 writes an "unlimited" limit as a number near 2^63
    return /^\d+$/.test(text) && n < 2 ** 60 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The memory the cgroup (mounted at root) still allows, or undefined without a limit. */
export function cgroupAvailable(root = '/sys/fs/cgroup'): number | undefined {
  for (const [limit, usage] of [
    ['memory.max', 'memory.current'],
    ['memory/memory.limit_in_bytes', 'memory/memory.usage_in_bytes'],
  ] as const) {
    const max = readBytes(join(root, limit));
    if (max !== undefined) return Math.max(0, max - (readBytes(join(root, usage)) ?? 0));
  }
  return undefined;
}

/** The memory a benchmark on `device` may use. */
export function availableMemory(device: DeviceSpec, cgroupRoot?: string): Available {
  if (device === 'cpu') {
    const free = freemem();
    const cgroup = cgroupAvailable(cgroupRoot);
    return cgroup !== undefined && cgroup < free
      ? { bytes: cgroup, source: 'left under the cgroup memory limit' }
      : { bytes: free, source: 'available on this machine' };
  }
  const spec = device === 'cuda' ? 'cuda:0' : device;
  const d = devices().find((x) => x.spec === spec);
  const total = d?.totalMemory ?? 0;
  return {
    bytes: Math.max(0, total - CUDA_RESERVE),
    source: `on ${spec} (${d?.name ?? 'not found'}: its total less 1 GiB for the CUDA context)`,
  };
}
