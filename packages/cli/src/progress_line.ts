// progress_line.ts: one progress line on stderr for the long CLI jobs (`data`, `prepare`): on a TTY
// rewritten in place (at most every 100 ms) and cleared at the end; elsewhere (pipes, CI logs) a
// whole line every `intervalMs`, none for a job shorter than that.
import type { ProgressSink } from '@mae-cuda/mae';

export class ProgressLine {
  readonly started = performance.now();
  private lastDraw: number;
  private dirty = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly intervalMs = 10_000,
  ) {
    this.lastDraw = this.sink.isTTY ? Number.NEGATIVE_INFINITY : this.started;
  }

  /** Seconds since the start when a line is due (or `force`), else undefined. */
  due(force = false): number | undefined {
    const now = performance.now();
    if (!force && now - this.lastDraw < (this.sink.isTTY ? 100 : this.intervalMs)) return undefined;
    this.lastDraw = now;
    return (now - this.started) / 1000;
  }

  draw(line: string): void {
    if (this.sink.isTTY) {
      this.sink.write(`\r${line}\x1b[K`);
      this.dirty = true;
    } else this.sink.write(`${line}\n`);
  }

  /** Clears the rewritten line (TTY) before what follows is printed. */
  end(): void {
    if (this.dirty) this.sink.write('\r\x1b[K');
    this.dirty = false;
  }
}
