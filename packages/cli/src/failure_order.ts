// failure_order.ts: which failure of a data-parallel job came first, for the launcher's summary.
// Each worker's death gets a sequence number when the launcher first learns of it: the end of its
// socket pair (closed by the kernel as the worker dies, and reported in the order the sockets
// closed, even for workers that died together while the launcher was busy) or its exit status,
// whichever comes first; a stop signal to the launcher gets one too. Exit statuses come later and
// in no particular order, so the first failure is the first death in sequence that failed, and
// it is known once every earlier death's exit status is in. Deaths after it (a peer whose
// collective broke, a worker stopped by our SIGTERM) are never named.

export interface Death {
  readonly rank: number;
  readonly pid: number | undefined;
  /** when the launcher learned of the death (lower = earlier) */
  readonly seq: number;
  /** undefined until the exit status arrives */
  readonly status?: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
}

export interface StopSignal {
  readonly signal: NodeJS.Signals;
  readonly seq: number;
}

/** A non-zero exit or a signal. */
export const failed = (s: NonNullable<Death['status']>) => s.code !== 0 || s.signal !== null;

export function describeDeath(d: Death): string {
  const s = d.status!;
  return `rank ${d.rank} (pid ${d.pid}) ${s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`}`;
}

/**
 * The cause of the job's failure: 'rank R (pid P) ...' or 'stopped by SIG...'; undefined while
 * there is none, or while an earlier death's exit status has not arrived yet.
 */
export function firstFailure(deaths: readonly Death[], stop?: StopSignal): string | undefined {
  const stopped = `stopped by ${stop?.signal}`;
  for (const d of [...deaths].sort((a, b) => a.seq - b.seq)) {
    if (stop && stop.seq < d.seq) return stopped;
    if (d.status === undefined) return undefined;
    if (failed(d.status)) return describeDeath(d);
  }
  return stop ? stopped : undefined;
}
