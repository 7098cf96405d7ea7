// failure_order.ts: which failure of a data-parallel job came first, for the launcher's summary.
// Each worker's death gets a sequence number when the launcher first learns of it: the end of its
// socket pair (closed by the kernel as the worker dies, and reported in the order the sockets
// closed, even for workers that died together while the launcher was busy) or its exit status,
// whichever comes first; a stop signal to the launcher gets one too. Exit statuses come later and
// in no particular order, so the first failure is the first death in sequence that failed, and
// it is known once every earlier death's exit status is in. Deaths after it (a peer whose
// collective broke, a worker stopped by our SIGTERM) are never named. A worker that stopped because
// it lost a peer says so with its exit code (PEER_LOST_EXIT): it is named only when no other
// worker failed, once every worker is dead, since the kernel may report its death before that of
// the peer it lost (the two close their sockets at nearly the same time).

export interface Death {
  readonly rank: number;
  readonly pid: number | undefined;
  /** when the launcher learned of the death (lower = earlier) */
  readonly seq: number;
  /** undefined until the exit status arrives */
  readonly status?: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
  /** learned of after the launcher began stopping the workers (its SIGTERM is never the cause) */
  readonly stopped?: boolean;
}

export interface StopSignal {
  readonly signal: NodeJS.Signals;
  readonly seq: number;
}

/** The exit code of a worker that stopped because the connection to a peer closed or failed. */
export const PEER_LOST_EXIT = 3;

/** A non-zero exit or a signal. */
export const failed = (s: NonNullable<Death['status']>) => s.code !== 0 || s.signal !== null;

const peerLost = (s: NonNullable<Death['status']>) => s.signal === null && s.code === PEER_LOST_EXIT;

export function describeDeath(d: Death): string {
  const s = d.status!;
  const how = s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
  return `rank ${d.rank} (pid ${d.pid}) ${how}${peerLost(s) ? ' (it lost a peer)' : ''}`;
}

/**
 * The cause of the job's failure: 'rank R (pid P) ...' or 'stopped by SIG...'; undefined while
 * there is none, or while an earlier death's exit status has not arrived yet. A worker that lost a
 * peer is named only when `all` (every worker is dead) and no other failed; one that the
 * launcher's SIGTERM stopped never is.
 */
export function firstFailure(deaths: readonly Death[], stop?: StopSignal, all = false): string | undefined {
  const stopped = `stopped by ${stop?.signal}`;
  let lost: Death | undefined;
  for (const d of [...deaths].sort((a, b) => a.seq - b.seq)) {
    if (stop && stop.seq < d.seq) return stopped;
    if (d.status === undefined) return undefined;
    if (!failed(d.status) || (d.stopped && d.status.signal === 'SIGTERM')) continue;
    if (!peerLost(d.status)) return describeDeath(d);
    lost ??= d;
  }
  if (stop) return stopped;
  return lost && all ? describeDeath(lost) : undefined;
}
