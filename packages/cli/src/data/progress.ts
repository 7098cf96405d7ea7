// data/progress.ts: the progress of a `mae-cuda data` scan on stderr: samples checked of all, rate
// and ETA. On a TTY one line is rewritten (at most every 100 ms) and cleared at the end; elsewhere
// (pipes, CI logs) a line every `intervalMs`, none for a scan shorter than that.
import { formatDuration, type ProgressSink } from '@mae-cuda/mae';
import { ProgressLine } from '../progress_line.js';

export class ScanProgress {
  private readonly line: ProgressLine;

  constructor(sink: ProgressSink, intervalMs = 10_000) {
    this.line = new ProgressLine(sink, intervalMs);
  }

  update(done: number, total: number): void {
    const elapsed = this.line.due();
    if (elapsed === undefined) return;
    const rate = done / Math.max(elapsed, 1e-9);
    this.line.draw(
      `data: checked ${done}/${total} (${Math.floor((100 * done) / total)}%), ` +
        `${rate.toFixed(0)}/s, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration((total - done) / rate)}`,
    );
  }

  /** Clears the rewritten line (TTY) before the report is printed. */
  end(): void {
    this.line.end();
  }
}
