// collective.ts: what data-parallel training needs from its ranks: averaging a tensor over all of
// them, broadcasting one from rank 0, and a barrier. `single()` is the world of one; tcp.ts has a
// small TCP implementation for CPU tensors (tests and CPU-only machines); the CUDA path uses NCCL.
import type { Stream, Tensor } from '@mae-cuda/native';

/** All-reduces of gradient buckets on a side stream, overlapping the rest of the backward. */
export interface GradOverlap {
  /** the mean over the world of these tensors, after the work enqueued so far on the main stream */
  bucket(tensors: readonly Tensor[]): void;
  /** the main stream waits for every bucket so far */
  join(): void;
}

export interface Collective {
  readonly rank: number;
  readonly world: number;
  /** t = the mean of t over every rank (in place; f32) */
  allReduceMean(t: Tensor): Promise<void>;
  /** t = rank 0's t on every rank (in place) */
  broadcast(t: Tensor): Promise<void>;
  /** returns once every rank has called it */
  barrier(): Promise<void>;
  /**
   * t = the mean over every rank, enqueued on the device and returning at once (NCCL): what a
   * captured step uses. Absent where the collective needs the host (the TCP one).
   */
  enqueueMean?(t: Tensor): void;
  /** bucketed all-reduces for a step that runs on `main` (NCCL; capturable in a CUDA graph) */
  overlap?(main: Stream): GradOverlap;
  /** throws when the collective has failed in the background (e.g. NCCL saw a rank die) */
  check?(): void;
  close(): void;
}

/** The world of one rank: every operation is the identity. */
export function single(): Collective {
  return {
    rank: 0,
    world: 1,
    allReduceMean: async () => {},
    broadcast: async () => {},
    barrier: async () => {},
    close: () => {},
  };
}
