// loader.ts: the batch loader: a pool of worker threads (worker.ts) that read, decode and augment
// images into pooled shared uint8 buffers (HWC, one image after another), a batch split into one
// contiguous run per worker. Every sample's bytes depend only on (seed, epoch, index) (the crop
// and flip come from a counter-based RNG), so a batch is the same whatever the number of workers.
// At most `buffers` batches are in flight or held; load() waits for a free buffer. For CUDA runs the
// buffers are page-locked (`pin`: cudaHostRegister), so that the upload of a batch is a DMA copy.
import { Worker } from 'node:worker_threads';
import { hostPin, hostUnpin } from '@mae-cuda/native';
import type { AugmentConfig } from '../augment/index.js';
import type { SourceSpec } from '../sources/index.js';
import type { BadDataPolicy, BadSample, Job, WorkerInit, WorkerReply } from './messages.js';

export interface LoaderConfig {
  spec: SourceSpec;
  augment: AugmentConfig;
  seed: number;
  /** worker threads (at least 1) */
  workers: number;
  /** images per batch: the size of each buffer */
  batch: number;
  /** batches that may be in flight or held at once (at least 1) */
  buffers: number;
  badData: BadDataPolicy;
  /** page-lock the buffers for copies to a CUDA device (a no-op without one) */
  pin?: boolean;
}

/** A decoded batch: `pixels` holds `count` images of [H, W, C] uint8; release() when done with it. */
export interface LoadedBatch {
  pixels: Uint8Array;
  count: number;
  /** the samples replaced because they could not be read or decoded */
  bad: BadSample[];
  release(): void;
}

interface Pending {
  left: number;
  bad: BadSample[];
  failure?: string;
  done: () => void;
}

const BOOT = new URL('./worker_boot.mjs', import.meta.url);

export class BatchLoader {
  private readonly pool: Worker[];
  private readonly free: SharedArrayBuffer[] = [];
  private readonly waiting: ((b: SharedArrayBuffer) => void)[] = [];
  private readonly jobs = new Map<number, Pending>();
  private nextJob = 0;
  private closed = false;
  private dead: string | undefined;
  private readonly pinnedViews: Uint8Array[] = [];
  readonly bytesPerImage: number;
  /** images decoded and the workers' busy seconds (summed over workers), since the start */
  readonly stats = { images: 0, busySeconds: 0 };

  /** What the pool can decode per second with every worker busy, from the stats since `from`. */
  capacity(from: { images: number; busySeconds: number } = { images: 0, busySeconds: 0 }): number {
    const busy = this.stats.busySeconds - from.busySeconds;
    return busy > 0 ? ((this.stats.images - from.images) / busy) * this.pool.length : 0;
  }

  private constructor(
    readonly config: LoaderConfig,
    pool: Worker[],
  ) {
    this.pool = pool;
    const a = config.augment;
    this.bytesPerImage = a.inputSize * a.inputSize * a.channels;
    for (let k = 0; k < config.buffers; k++) {
      const buffer = new SharedArrayBuffer(config.batch * this.bytesPerImage);
      const view = new Uint8Array(buffer);
      if (config.pin && hostPin(view)) this.pinnedViews.push(view);
      this.free.push(buffer);
    }
    pool.forEach((w, k) => {
      w.on('message', (r: WorkerReply) => this.onReply(r));
      w.on('error', (e) => this.failAll(`loader worker ${k} failed: ${e.message}`));
      w.on('exit', (code) => {
        if (!this.closed) this.failAll(`loader worker ${k} exited (code ${code})`);
      });
    });
  }

  /** A dead worker fails every batch in flight (and later ones): the run stops, naming it. */
  private failAll(message: string): void {
    this.dead ??= message;
    for (const [id, p] of this.jobs) {
      this.jobs.delete(id);
      p.failure ??= message;
      if (--p.left === 0) p.done();
    }
  }

  /** Starts the workers; resolves once every one has opened the source. */
  static async start(config: LoaderConfig): Promise<BatchLoader> {
    if (!(config.workers >= 1 && config.buffers >= 1 && config.batch >= 1))
      throw new RangeError(`loader: workers, buffers and batch must be at least 1`);
    const init: WorkerInit = {
      spec: config.spec,
      augment: config.augment,
      seed: config.seed,
      badData: config.badData,
    };
    const pool = Array.from({ length: config.workers }, () => new Worker(BOOT, { workerData: init }));
    try {
      await Promise.all(pool.map(ready));
    } catch (e) {
      await Promise.all(pool.map((w) => w.terminate()));
      throw e;
    }
    return new BatchLoader(config, pool);
  }

  /** Decodes the samples `indices` of `epoch` into a free buffer. */
  async load(epoch: number, indices: ArrayLike<number>): Promise<LoadedBatch> {
    if (this.closed) throw new Error('loader: closed');
    if (this.dead) throw new Error(this.dead);
    const n = indices.length;
    if (n < 1 || n > this.config.batch)
      throw new RangeError(`loader: ${n} samples for batches of ${this.config.batch}`);
    const buffer = await this.acquire();
    const runs = split(Array.from(indices), this.pool.length);
    const pending: Pending = { left: runs.filter((r) => r.length).length, bad: [], done: () => {} };
    const finished = new Promise<void>((resolve) => {
      pending.done = resolve;
    });
    let offset = 0;
    runs.forEach((run, w) => {
      if (run.length === 0) return;
      const job: Job = { id: this.nextJob++, epoch, indices: run, buffer, offset };
      this.jobs.set(job.id, pending);
      this.pool[w]!.postMessage(job);
      offset += run.length * this.bytesPerImage;
    });
    await finished;
    if (pending.failure !== undefined) {
      this.release(buffer);
      throw new Error(pending.failure);
    }
    let released = false;
    return {
      pixels: new Uint8Array(buffer, 0, n * this.bytesPerImage),
      count: n,
      bad: pending.bad.sort((a, b) => a.index - b.index),
      release: () => {
        if (!released) this.release(buffer);
        released = true;
      },
    };
  }

  /** Whether the buffers are page-locked for CUDA copies. */
  get pinned(): boolean {
    return this.pinnedViews.length > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.pool.map((w) => w.terminate()));
    for (const v of this.pinnedViews.splice(0)) hostUnpin(v);
  }

  private onReply(r: WorkerReply): void {
    if (r.type === 'ready') return;
    const p = this.jobs.get(r.id);
    if (!p) return;
    this.jobs.delete(r.id);
    if (r.type === 'done') {
      p.bad.push(...r.bad);
      this.stats.images += r.images;
      this.stats.busySeconds += r.busyMs / 1000;
    } else p.failure ??= r.message;
    if (--p.left === 0) p.done();
  }

  private acquire(): Promise<SharedArrayBuffer> {
    const b = this.free.pop();
    return b ? Promise.resolve(b) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(b: SharedArrayBuffer): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }
}

/** Resolves when the worker has opened its source; rejects with its startup error. */
function ready(w: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (r: WorkerReply) => {
      if (r.type !== 'ready') return;
      w.off('error', reject);
      w.off('message', onMessage);
      resolve();
    };
    w.on('message', onMessage);
    w.once('error', reject);
  });
}

/** `items` in `parts` contiguous runs of sizes differing by at most one. */
export function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (let p = 0; p < parts; p++) {
    const size = Math.floor(items.length / parts) + (p < items.length % parts ? 1 : 0);
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}
