// info.ts: what this build and machine offer: buildInfo(), devices() (cpu + cuda:N), memory
// statistics, and findNccl() which builds the list of places libnccl may be and probes them.

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildDir } from './addon_path.js';
import { binding, emulated, type NativeBuildInfo, type NcclProbeResult } from './binding.js';
import { type Device, type DeviceSpec, deviceTypeCode, parseDevice } from './device.js';

export type BuildInfo = NativeBuildInfo;

export interface DeviceInfo {
  spec: DeviceSpec;
  type: 'cpu' | 'cuda';
  index: number;
  name: string;
  /** Compute capability, e.g. "9.0" (CUDA only). */
  capability?: string;
  totalMemory?: number;
  /** OpenMP threads (CPU only). */
  threads?: number;
}

export function buildInfo(): BuildInfo {
  return binding.buildInfo();
}

/**
 * The CPU's measured f32 peak in GFLOP/s: every OpenMP thread (buildInfo().cpuThreads) running
 * independent vector multiply-adds with the build of the CPU kernels in use, for about `seconds`.
 */
export function cpuPeakGflops(seconds = 0.3): number {
  return binding.cpuPeakGflops(seconds);
}

/** The CPU and every CUDA device the runtime can see. */
export function devices(): DeviceInfo[] {
  const cpu: DeviceInfo = {
    spec: 'cpu',
    type: 'cpu',
    index: 0,
    name: 'cpu',
    threads: binding.buildInfo().cpuThreads,
  };
  const cuda = binding.cudaDevices().map(
    (d): DeviceInfo => ({
      spec: `cuda:${d.index}`,
      type: 'cuda',
      index: d.index,
      name: d.name,
      capability: `${d.major}.${d.minor}`,
      totalMemory: d.totalMemory,
    }),
  );
  return [cpu, ...cuda];
}

export function setCpuThreads(n: number): void {
  binding.setCpuThreads(n);
}

export function memoryStats(device: DeviceSpec | Device = 'cpu') {
  const d = parseDevice(device);
  return binding.memoryStats(deviceTypeCode(d), d.index);
}

/**
 * Runs V8's garbage collector and lets the finalizers of unreachable tensors run, so their memory
 * goes back to the allocator (V8 does not see native memory, so it may keep them for long).
 */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc()();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let gcFn: (() => void) | undefined;
function gc(): () => void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  return gcFn;
}

/** Starts the device's peak over from what is allocated now (as torch.cuda.reset_peak_memory_stats). */
export function resetPeakMemory(device: DeviceSpec | Device = 'cpu'): void {
  const d = parseDevice(device);
  binding.resetPeakMemory(deviceTypeCode(d), d.index);
}

/** Frees the allocator's cached (unused) blocks of the device. */
export function emptyCache(device: DeviceSpec | Device = 'cpu'): void {
  const d = parseDevice(device);
  binding.emptyCache(deviceTypeCode(d), d.index);
}

/**
 * Page-locks the memory behind `view` (an ArrayBuffer's or a SharedArrayBuffer's) so that copies
 * from it to a CUDA device are DMA transfers (cudaHostRegister). Returns false when there is nothing
 * to pin for (a CPU-only build, or no CUDA device). Call hostUnpin(view) before dropping it.
 */
export function hostPin(view: Uint8Array): boolean {
  return binding.hostPin(view);
}

/** Undoes hostPin(view) (the same view). */
export function hostUnpin(view: Uint8Array): void {
  binding.hostUnpin(view);
}

const NCCL_LIB = 'libnccl.so.2';
const STANDARD_NCCL_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/local/cuda/lib64', '/usr/local/nccl/lib'];

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** dir/python3*\/sub for each python3* folder of dir. */
function globPython(dir: string, sub: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^python3(\.\d+)?$/.test(n))
    .sort()
    .map((n) => join(dir, n, sub));
}

/** site-packages folders python3 reports (empty when there is no python3). */
function pythonSitePackages(): string[] {
  const code = 'import site; print("\\n".join(site.getsitepackages() + [site.getusersitepackages()]))';
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 3000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return [];
  return r.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** Where libnccl may be, in the order it is tried. */
export function ncclCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const explicit = env.MAE_NCCL_PATH;
  if (explicit) out.push(isDir(explicit) ? join(explicit, NCCL_LIB) : explicit);
  // the emulator's stand-in NCCL (packages/native/emu/nccl) first when the emulator build is loaded
  if (!explicit && emulated) out.push(join(buildDir, 'libnccl_emu.so'));
  if (env.NCCL_HOME) out.push(join(env.NCCL_HOME, 'lib', NCCL_LIB));
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(delimiter)) {
    if (dir) out.push(join(dir, NCCL_LIB));
  }
  out.push(NCCL_LIB); // the dynamic loader's own search
  for (const dir of STANDARD_NCCL_DIRS) out.push(join(dir, NCCL_LIB));
  const sitePackages = [
    ...globPython('/usr/lib', 'dist-packages'),
    ...globPython('/usr/local/lib', 'dist-packages'),
    ...globPython('/usr/local/lib', 'site-packages'),
    ...globPython(join(homedir(), '.local', 'lib'), 'site-packages'),
    ...pythonSitePackages(),
  ];
  for (const sp of sitePackages) {
    if (isDir(sp)) out.push(join(sp, 'nvidia', 'nccl', 'lib', NCCL_LIB));
  }
  return [...new Set(out)];
}

export type NcclInfo = NcclProbeResult;

/** Looks for NCCL (the PyTorch wheel's copy included) and reports its version or what was searched. */
export function findNccl(env: NodeJS.ProcessEnv = process.env): NcclInfo {
  return binding.ncclProbe(ncclCandidates(env));
}

/** 22105 -> "2.21.5" (NCCL >= 2.9 encodes major*10000 + minor*100 + patch). */
export function formatNcclVersion(v: number): string {
  if (v >= 10000) return `${Math.floor(v / 10000)}.${Math.floor((v % 10000) / 100)}.${v % 100}`;
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 100)}.${v % 100}`;
}
