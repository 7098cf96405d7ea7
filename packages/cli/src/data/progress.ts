// data/progress.ts: the progress of a `mae-cuda data` scan on stderr: samples checked of all, rate
// and ETA. On a TTY one line is rewritten (at most every 100 ms) and cleared at the end; elsewhere
// (pipes, CI logs) a line every `intervalMs`, none for a scan shorter than that.
import { formatDuration, type ProgressSink } from '@mae-cuda/mae';

export class ScanProgress {
  private readonly started = performance.now();
  private lastDraw: number;
  private dirty = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly intervalMs = 10_000,
  ) {
    this.lastDraw = this.sink.isTTY ? Number.NEGATIVE_INFINITY : this.started;
  }

  update(done: number, total: number): void {
    const now = performance.now();
    if (now - this.lastDraw < (this.sink.isTTY ? 100 : this.intervalMs)) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const line =
      `data: checked ${done}/${total} (${Math.floor((100 * done) / total)}%), ` +
      `${rate.toFixed(0)}/s, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration((total - done) / rate)}`;
    if (this.sink.isTTY) {
      this.sink.write(`\r${line}\x1b[K`);
      this.dirty = true;
    } else this.sink.write(`${line}\n`);
  }

  /** Clears the rewritten line (TTY) before the report is printed. */
  end(): void {
    if (this.dirty) this.sink.write('\r\x1b[K');
    this.dirty = false;
  }
}
