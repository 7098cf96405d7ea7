// binding.ts: loads the native addon (mae_native.node, found by addon_path.ts) and types its JS API. The
// OpenMP environment is checked and completed first (openmp_env.ts): OpenMP reads it when it loads.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CpuIsa } from '../generated/ops.js';
import { locateAddon } from './addon_path.js';
import type { EmulatorOptions } from './emulator.js';
import { prepareOpenMpEnv } from './openmp_env.js';

/** A device as the addon sees it: type 0 = cpu, 1 = cuda. */
export interface NativeDevice {
  type: number;
  index: number;
}

export interface NativeStream {
  readonly device: NativeDevice;
  synchronize(): void;
  synchronizeAsync(): Promise<void>;
  destroy(): void;
}

export interface NativeEvent {
  readonly device: NativeDevice;
  record(stream?: NativeStream | null): void;
  /** work enqueued on stream from now on waits for this event */
  block(stream: NativeStream | null): void;
  synchronize(): void;
  query(): boolean;
  /** Milliseconds from this event to `end`. */
  elapsedMs(end: NativeEvent): number;
  destroy(): void;
}

export interface NativeTensor {
  readonly dtype: number;
  readonly shape: number[];
  readonly device: NativeDevice;
  readonly numel: number;
  readonly nbytes: number;
  view(shape: number[], offsetElements: number): NativeTensor;
  copyFromHost(data: ArrayBufferView, stream?: NativeStream | null): void;
  copyToHostSync(data: ArrayBufferView): void;
  copyToHost(data: ArrayBufferView, stream?: NativeStream | null): Promise<void>;
  copyFrom(src: NativeTensor, stream?: NativeStream | null): void;
  fillBytes(byte: number, stream?: NativeStream | null): void;
  release(): void;
}

/** An instantiated CUDA graph (an opaque handle; see graph.ts). */
export interface NativeGraph {
  readonly __nativeGraph: unique symbol;
}

/** An NCCL communicator (an opaque handle; see nccl.ts). */
export interface NativeNcclComm {
  readonly __nativeNcclComm: unique symbol;
}

export interface NcclLibrary {
  /** The library file that loaded (as given to ncclLoad). */
  path: string;
  /** major*10000 + minor*100 + patch, e.g. 22105 for 2.21.5 */
  version: number;
}

export type { CpuIsa };

export interface NativeBuildInfo {
  version: string;
  cuda: boolean;
  architectures: string[];
  openmp: boolean;
  cpuThreads: number;
  /** the most cpuThreads accepted: 4 x the processors this process may run on */
  maxCpuThreads: number;
  /** the OMP_WAIT_POLICY OpenMP started with ('default': unset, spin a while then sleep) */
  waitPolicy: 'passive' | 'active' | 'default';
  /** which build of the CPU kernels runs: 'avx512' (AVX-512 F/BW/VL/DQ), 'avx2' (AVX2+FMA) or 'default' */
  cpuIsa: CpuIsa;
  /** the best build this processor runs (cpuIsa unless MAE_CPU_ISA chose another) */
  cpuIsaBest: CpuIsa;
}

export interface NativeCudaDevice {
  index: number;
  name: string;
  major: number;
  minor: number;
  totalMemory: number;
}

export interface NativeMemoryStats {
  allocated: number;
  reserved: number;
  peakAllocated: number;
}

export interface NcclProbeResult {
  found: boolean;
  path?: string;
  version?: number;
  searched: string[];
  /** dlopen's message for each candidate that did not load. */
  errors: string[];
}

export interface NativeBinding {
  tensorCreate(dtypeCode: number, shape: number[], deviceType: number, deviceIndex: number): NativeTensor;
  streamCreate(deviceType: number, deviceIndex: number): NativeStream;
  eventCreate(deviceType: number, deviceIndex: number): NativeEvent;
  buildInfo(): NativeBuildInfo;
  /** Why the environment's MAE_CPU_ISA was not followed, or null. */
  cpuIsaError(): string | null;
  /** The CPU's measured f32 peak (GFLOP/s, all OpenMP threads) with the kernels' build, in about `seconds`. */
  cpuPeakGflops(seconds: number): number;
  cudaDevices(): NativeCudaDevice[];
  setCpuThreads(n: number): void;
  /** Linux: the kernel sends this process `signal` when its parent ends; false elsewhere. */
  setParentDeathSignal(signal: number): boolean;
  memoryStats(deviceType: number, deviceIndex: number): NativeMemoryStats;
  resetPeakMemory(deviceType: number, deviceIndex: number): void;
  emptyCache(deviceType: number, deviceIndex: number): void;
  hostPin(memory: Uint8Array): boolean;
  hostUnpin(memory: Uint8Array): void;
  ncclProbe(candidates: string[]): NcclProbeResult;
  setCurrentStream(deviceType: number, deviceIndex: number, stream: NativeStream | null): void;
  graphCaptureBegin(stream: NativeStream): void;
  graphCaptureEnd(stream: NativeStream): NativeGraph;
  graphLaunch(graph: NativeGraph, stream?: NativeStream | null): void;
  graphNumNodes(graph: NativeGraph): number;
  graphDestroy(graph: NativeGraph): void;
  /** paths: one library file or several separated by ':', tried in order; null: the default list. */
  ncclLoad(paths: string | null): NcclLibrary;
  ncclUniqueId(): Uint8Array;
  ncclErrorString(code: number): string;
  ncclCommInit(
    world: number,
    rank: number,
    id: Uint8Array,
    deviceType: number,
    deviceIndex: number,
  ): Promise<NativeNcclComm>;
  ncclCommDestroy(comm: NativeNcclComm): void;
  ncclCommAbort(comm: NativeNcclComm): void;
  ncclCommAsyncError(comm: NativeNcclComm): number;
  /** op: 0 = sum, 1 = avg */
  ncclAllReduce(comm: NativeNcclComm, tensor: NativeTensor, op: number, stream: NativeStream | null): void;
  ncclBroadcast(comm: NativeNcclComm, tensor: NativeTensor, root: number, stream: NativeStream | null): void;
  ncclGroupStart(): void;
  ncclGroupEnd(): void;
  /** PIL's resize(BICUBIC) of an 8-bit HWC image (see resample.ts). */
  resizeBicubicU8(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    dstWidth: number,
    dstHeight: number,
  ): Uint8Array;
  cropResizeBicubicU8(
    dst: Uint8Array,
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    left: number,
    top: number,
    boxWidth: number,
    boxHeight: number,
    dstWidth: number,
    dstHeight: number,
    flip: boolean,
  ): void;
  /** Whether the addon was built with libjpeg (see jpeg.ts). */
  jpegAvailable(): boolean;
  jpegHeader(bytes: Uint8Array): { width: number; height: number; components: number; colorSpace: string };
  jpegDecodeRegion(bytes: Uint8Array, left: number, top: number, width: number, height: number): Uint8Array;
  /** The emulator build only (emulator.ts). */
  emuConfigure?(options: EmulatorOptions): void;
  /** Generated ops; generated/ops.ts gives them precise types. */
  ops: Record<string, (...args: unknown[]) => unknown>;
}

/** Whether MAE_CUDA_EMULATOR=1 asks for the emulator build (CUDA run on the CPU: docs/EMULATOR.md). */
export const emulated = process.env.MAE_CUDA_EMULATOR === '1';

const located = locateAddon(emulated ? 'mae_native_emu' : 'mae_native');

/** The addon loaded (addon_path.ts says where it is looked for; MAE_NATIVE_ADDON overrides it). */
export const addonPath = located.path ?? located.searched[0]!;

/** MAE_CPU_ISA names no build of the CPU kernels, or one this processor cannot run. */
export class CpuIsaSettingError extends Error {
  override name = 'CpuIsaSettingError';
}

function load(): NativeBinding {
  if (located.path === undefined || !existsSync(located.path)) {
    throw new Error(
      `@mae-cuda/native: the native addon is missing (looked for ${located.searched.join(' and ')}): ` +
        'in the repository run `pnpm build` at its root; where the package is installed, ' +
        '`npm rebuild @mae-cuda/native` builds it from source (README, "Installing")',
    );
  }
  prepareOpenMpEnv(); // before libgomp loads with the addon and reads it
  const b = createRequire(import.meta.url)(located.path) as NativeBinding;
  const isaError = b.cpuIsaError();
  if (isaError) throw new CpuIsaSettingError(isaError);
  return b;
}

export const binding: NativeBinding = load();
