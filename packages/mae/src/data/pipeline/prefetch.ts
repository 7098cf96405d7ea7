// prefetch.ts: keeps the next `depth` batches of an epoch decoding while the step runs, and
// measures how long the consumer waited for each (the time the step was starved of data).
import type { BatchLoader, LoadedBatch } from './loader.js';

export class Prefetcher {
  private readonly started: Promise<LoadedBatch>[] = [];
  private next = 0;
  /** seconds spent waiting in take() */
  waited = 0;

  constructor(
    private readonly loader: BatchLoader,
    private readonly epoch: number,
    /** the dataset indices of each batch, in order */
    private readonly batches: readonly ArrayLike<number>[],
    private readonly depth: number,
  ) {
    // the consumer holds one batch while `depth` decode: one buffer more, or take() waits forever
    if (!(depth >= 1 && depth < loader.config.buffers))
      throw new RangeError(
        `prefetch: depth ${depth} needs 1 to ${loader.config.buffers - 1} (the loader's buffers - 1)`,
      );
    this.fill();
  }

  /** The next batch, in order; resolves when it is decoded. */
  async take(): Promise<LoadedBatch> {
    const p = this.started.shift();
    if (!p) throw new RangeError('prefetch: no batch left in this epoch');
    this.fill();
    const t = performance.now();
    const b = await p;
    this.waited += (performance.now() - t) / 1000;
    return b;
  }

  private fill(): void {
    while (this.started.length < this.depth && this.next < this.batches.length) {
      const p = this.loader.load(this.epoch, this.batches[this.next++]!);
      p.catch(() => {}); // reported by take()
      this.started.push(p);
    }
  }
}
