// prepare/progress.ts: the progress of `mae-cuda prepare` on stderr: samples done of all, images/s,
// MB written, ETA. On a TTY one line is rewritten (at most every 100 ms) and cleared at the end;
// elsewhere (pipes, CI logs) a line every `intervalMs`.
import { formatDuration, type ProgressSink } from '@mae-cuda/mae';
import { ProgressLine } from '../progress_line.js';

export class PrepareProgress {
  private readonly line: ProgressLine;

  /** `first`: samples already done before this run (a resume), not counted in the rate */
  constructor(
    sink: ProgressSink,
    private readonly first = 0,
    intervalMs = 10_000,
  ) {
    this.line = new ProgressLine(sink, intervalMs);
  }

  update(done: number, total: number, bytes: number, force = false): void {
    const elapsed = this.line.due(force);
    if (elapsed === undefined) return;
    const rate = (done - this.first) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? formatDuration((total - done) / rate) : '?';
    this.line.draw(
      `prepare: ${done}/${total} (${total > 0 ? Math.floor((100 * done) / total) : 100}%), ` +
        `${rate.toFixed(0)} images/s, ${(bytes / 1e6).toFixed(1)} MB written, ` +
        `elapsed ${formatDuration(elapsed)}, ETA ${eta}`,
    );
  }

  end(): void {
    this.line.end();
  }
}
