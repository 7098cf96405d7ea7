// progress.ts: the progress of a `mae-cuda bench` on stderr: which run of which row is going,
// runs done of all, elapsed time and ETA (from the mean time of the runs done). On a TTY one
// line is rewritten and cleared at the end; elsewhere (pipes, CI logs) each run start is a line.
import { formatDuration, type ProgressSink } from '@mae-cuda/mae';

export class BenchProgress {
  private done = 0;
  private readonly started = performance.now();

  constructor(
    private readonly sink: ProgressSink,
    readonly total: number,
  ) {}

  /** A run starts (label: what it is). */
  start(label: string): void {
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = this.done > 0 ? formatDuration((elapsed / this.done) * (this.total - this.done)) : '?';
    const line = `bench: run ${this.done + 1}/${this.total}: ${label} (elapsed ${formatDuration(elapsed)}, ETA ${eta})`;
    this.sink.write(this.sink.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** The run that started last has finished. */
  finish(): void {
    this.done++;
  }

  /** Clears the rewritten line (TTY) before the tables are printed. */
  end(): void {
    if (this.sink.isTTY) this.sink.write('\r\x1b[K');
  }
}
