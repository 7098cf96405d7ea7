// messages.ts: what the batch loader (loader.ts) and its worker threads (worker.ts) say to each
// other. A job is a contiguous run of one batch's samples: the worker decodes and augments each
// into the batch's shared buffer at its slot (uint8 HWC, one image after another) and answers with
// the samples it had to replace (bad data) or, under `--bad-data fail`, the first error.
import type { AugmentConfig } from '../augment/index.js';
import type { SourceSpec } from '../sources/index.js';

/** What to do with a sample that cannot be read or decoded. */
export type BadDataPolicy = 'skip' | 'fail';

/** Given to each worker when it starts. */
export interface WorkerInit {
  spec: SourceSpec;
  augment: AugmentConfig;
  seed: number;
  badData: BadDataPolicy;
}

export interface Job {
  id: number;
  epoch: number;
  /** dataset indices of the samples, in batch order */
  indices: number[];
  /** the batch's buffer and the byte offset of the first of these samples */
  buffer: SharedArrayBuffer;
  offset: number;
}

/** A sample that was replaced: its index, the file (or member) and why. */
export interface BadSample {
  index: number;
  name: string;
  reason: string;
  /** the index whose image took its place */
  replacement: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; bad: BadSample[]; images: number; busyMs: number }
  | { type: 'failed'; id: number; message: string };
