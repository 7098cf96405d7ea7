// nccl.ts: NCCL collectives for CUDA tensors, with NCCL loaded at run time (nothing of NCCL is
// needed to build). loadNccl() tries the places findNccl() searches (MAE_NCCL_PATH, NCCL_HOME,
// LD_LIBRARY_PATH, the loader's own search, standard folders, PyTorch's nvidia/nccl/lib) and
// throws an error naming each path and why it failed. One rank makes an id with ncclUniqueId(),
// every rank gets it (over the launcher's own channel) and awaits NcclComm.init(world, rank, id,
// device), which resolves once all ranks have joined. allReduce/broadcast enqueue on a stream
// (default: the device's current stream, so a CudaGraph capture records them); every rank must
// issue the same collectives in the same order.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { binding, type NativeNcclComm, type NcclLibrary } from './binding.js';
import { type Device, type DeviceSpec, deviceToString, parseDevice, sameDevice } from './device.js';
import { ncclCandidates } from './info.js';
import type { Stream } from './stream.js';
import type { Tensor } from './tensor.js';

export type NcclReduceOp = 'sum' | 'avg';

export const NCCL_UNIQUE_ID_BYTES = 128;

let loaded: NcclLibrary | null = null;

/**
 * Loads NCCL once per process and returns the library's path and version. path: a libnccl file or
 * a folder holding libnccl.so.2; without it, every place ncclCandidates() lists is tried in order.
 * Once NCCL is loaded, later calls return it (naming another library throws).
 */
export function loadNccl(path?: string): NcclLibrary {
  if (path === undefined && loaded) return loaded;
  let paths: string;
  if (path !== undefined) {
    if (typeof path !== 'string' || path === '' || path.includes(':'))
      throw new TypeError(
        `loadNccl: path must be a file or folder name without ':', got ${JSON.stringify(path)}`,
      );
    paths = isDir(path) ? join(path, 'libnccl.so.2') : path;
  } else {
    paths = ncclCandidates()
      .filter((c) => !c.includes(':'))
      .join(':');
  }
  loaded = binding.ncclLoad(paths);
  return loaded;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A new communicator id (128 bytes) for NcclComm.init; made on one rank and sent to the others. */
export function ncclUniqueId(): Uint8Array {
  loadNccl();
  return binding.ncclUniqueId();
}

/** NCCL's name for a result code (e.g. from NcclComm.asyncError()). */
export function ncclErrorString(code: number): string {
  return binding.ncclErrorString(code);
}

/** Runs fn between ncclGroupStart and ncclGroupEnd: its collectives launch together. */
export function ncclGroup<T>(fn: () => T): T {
  loadNccl();
  binding.ncclGroupStart();
  try {
    return fn();
  } finally {
    binding.ncclGroupEnd();
  }
}

function checkInt(what: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new RangeError(`NcclComm.init: ${what} must be an integer in ${min}..${max}, got ${v}`);
}

export class NcclComm {
  private handle: NativeNcclComm | null;

  private constructor(
    handle: NativeNcclComm,
    readonly world: number,
    readonly rank: number,
    readonly device: Device,
  ) {
    this.handle = handle;
  }

  /**
   * Joins rank `rank` of the `world`-rank communicator named by id on a CUDA device; resolves when
   * every rank has joined (the wait runs off the main thread). Arguments are checked, and rejected
   * with a message naming the problem, before NCCL is loaded or called.
   */
  static async init(
    world: number,
    rank: number,
    id: Uint8Array,
    device: DeviceSpec | Device,
  ): Promise<NcclComm> {
    checkInt('world', world, 1, 1 << 24);
    checkInt('rank', rank, 0, world - 1);
    if (!(id instanceof Uint8Array) || id.length !== NCCL_UNIQUE_ID_BYTES)
      throw new TypeError(
        `NcclComm.init: id must be a Uint8Array of ${NCCL_UNIQUE_ID_BYTES} bytes (from ncclUniqueId()), got ${
          id instanceof Uint8Array ? `${id.length} bytes` : typeof id
        }`,
      );
    const d = parseDevice(device);
    if (d.type !== 'cuda')
      throw new TypeError(`NcclComm.init: NCCL communicators need a CUDA device, got ${deviceToString(d)}`);
    loadNccl();
    const handle = await binding.ncclCommInit(world, rank, id, 1, d.index);
    return new NcclComm(handle, world, rank, d);
  }

  private live(what: string): NativeNcclComm {
    if (!this.handle) throw new Error(`NcclComm.${what}: the communicator was destroyed or aborted`);
    return this.handle;
  }

  private checkTensor(what: string, t: Tensor, stream?: Stream): void {
    if (!sameDevice(t.device, this.device))
      throw new Error(
        `NcclComm.${what}: the tensor is on ${deviceToString(t.device)} but the communicator on ${deviceToString(this.device)}`,
      );
    if (stream && !sameDevice(stream.device, this.device))
      throw new Error(
        `NcclComm.${what}: the stream is on ${deviceToString(stream.device)} but the communicator on ${deviceToString(this.device)}`,
      );
  }

  /** In place: t becomes the sum (or mean) of every rank's t. f32 or bf16. */
  allReduce(t: Tensor, op: NcclReduceOp, stream?: Stream): void {
    const h = this.live('allReduce');
    if (op !== 'sum' && op !== 'avg')
      throw new TypeError(`NcclComm.allReduce: op must be 'sum' or 'avg', got ${op}`);
    if (t.dtype !== 'f32' && t.dtype !== 'bf16')
      throw new TypeError(`NcclComm.allReduce: only f32 and bf16 tensors can be all-reduced, got ${t.dtype}`);
    this.checkTensor('allReduce', t, stream);
    binding.ncclAllReduce(h, t.handle, op === 'sum' ? 0 : 1, stream?.handle ?? null);
  }

  /** In place: every rank's t receives root's (any dtype; same dtype and size on every rank). */
  broadcast(t: Tensor, root: number, stream?: Stream): void {
    const h = this.live('broadcast');
    if (!Number.isSafeInteger(root) || root < 0 || root >= this.world)
      throw new RangeError(
        `NcclComm.broadcast: root must be an integer in 0..${this.world - 1}, got ${root}`,
      );
    this.checkTensor('broadcast', t, stream);
    binding.ncclBroadcast(h, t.handle, root, stream?.handle ?? null);
  }

  /** NCCL's asynchronous error for this communicator: 0 when none (ncclErrorString names others). */
  asyncError(): number {
    return binding.ncclCommAsyncError(this.live('asyncError'));
  }

  /** Frees the communicator without waiting for pending work or peers (e.g. after an error). */
  abort(): void {
    const h = this.handle;
    this.handle = null;
    if (h) binding.ncclCommAbort(h);
  }

  /** Frees the communicator once its pending work is done. */
  destroy(): void {
    const h = this.handle;
    this.handle = null;
    if (h) binding.ncclCommDestroy(h);
  }
}
