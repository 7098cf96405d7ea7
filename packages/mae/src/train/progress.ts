// progress.ts: the progress line on stderr: step/total, epoch, loss, lr, images/s and ETA. On a
// TTY it rewrites one line with \r (at most every 100 ms); elsewhere (pipes, CI logs) it prints a
// full line every `intervalMs` and at the last step.
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface ProgressUpdate {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  imagesPerSec: number;
  /** images read from disk: the share of the epoch's time so far the steps waited for data */
  dataWait?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function formatProgress(u: ProgressUpdate, etaSeconds: number): string {
  const width = String(u.totalSteps).length;
  return (
    `step ${String(u.step).padStart(width)}/${u.totalSteps} epoch ${u.epoch} ` +
    `loss ${u.loss.toFixed(4)} lr ${u.lr.toExponential(2)} ` +
    `${u.imagesPerSec.toFixed(0)} img/s ` +
    (u.dataWait === undefined ? '' : `data wait ${(100 * u.dataWait).toFixed(0)}% `) +
    `ETA ${formatDuration(etaSeconds)}`
  );
}

export class ProgressBar {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private dirty = false;
  private readonly started = performance.now();
  private firstStep: number | undefined;

  constructor(
    private readonly sink: ProgressSink,
    private readonly intervalMs = 10_000,
  ) {}

  update(u: ProgressUpdate): void {
    const now = performance.now();
    this.firstStep ??= u.step - 1;
    const done = u.step - this.firstStep;
    const perStep = (now - this.started) / 1000 / Math.max(done, 1);
    const line = formatProgress(u, perStep * (u.totalSteps - u.step));
    const last = u.step >= u.totalSteps;
    if (this.sink.isTTY) {
      if (!last && now - this.lastDraw < 100) return;
      this.sink.write(`\r${line}\x1b[K`);
      this.dirty = true;
    } else {
      if (!last && now - this.lastDraw < this.intervalMs) return;
      this.sink.write(`${line}\n`);
    }
    this.lastDraw = now;
  }

  /** Ends the rewritten line (TTY) so that other output starts on a fresh line. */
  break(): void {
    if (this.dirty) this.sink.write('\n');
    this.dirty = false;
  }
}
