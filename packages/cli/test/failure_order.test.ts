// failure_order.test.ts: the launcher names the first failure in the order the workers died, once
// every earlier death's exit status is in; later deaths and a later stop signal are not named; a
// worker that lost a peer (PEER_LOST_EXIT) only when no other failed.
import assert from 'node:assert/strict';
import { type Death, firstFailure, PEER_LOST_EXIT } from '../src/failure_order.js';

const death = (
  rank: number,
  seq: number,
  code: number | null,
  signal: NodeJS.Signals | null = null,
): Death => ({
  rank,
  pid: 100 + rank,
  seq,
  status: { code, signal },
});

describe('firstFailure', () => {
  it('names the first death that failed, whatever order the exit statuses came in', () => {
    const peer = death(0, 2, 1); // its collective broke: it died second
    const killed = death(1, 1, null, 'SIGKILL');
    assert.equal(firstFailure([peer, killed]), 'rank 1 (pid 101) was killed by SIGKILL');
    assert.equal(firstFailure([killed, peer]), 'rank 1 (pid 101) was killed by SIGKILL');
  });

  it('waits for the exit status of an earlier death', () => {
    const dying: Death = { rank: 1, pid: 101, seq: 1 };
    assert.equal(firstFailure([death(0, 2, 1), dying]), undefined);
  });

  it('skips workers that finished, and names none while all did', () => {
    assert.equal(firstFailure([death(0, 1, 0), death(1, 2, 4)]), 'rank 1 (pid 101) exited with code 4');
    assert.equal(firstFailure([death(0, 1, 0), death(1, 2, 0)]), undefined);
  });

  it('a stop signal names itself unless a failure came before it', () => {
    const stop = { signal: 'SIGINT' as const, seq: 2 };
    assert.equal(firstFailure([death(0, 3, null, 'SIGTERM')], stop), 'stopped by SIGINT');
    assert.equal(firstFailure([], stop), 'stopped by SIGINT');
    assert.equal(
      firstFailure([death(1, 1, 1), death(0, 3, null, 'SIGTERM')], stop),
      'rank 1 (pid 101) exited with code 1',
    );
  });

  it('names a worker that lost a peer only when no other failed, once all are dead', () => {
    const lost = death(0, 1, PEER_LOST_EXIT); // its socket closed first in the kernel's order
    const killed = death(1, 2, null, 'SIGKILL');
    assert.equal(firstFailure([lost, killed]), 'rank 1 (pid 101) was killed by SIGKILL');
    assert.equal(firstFailure([lost, { rank: 1, pid: 101, seq: 2 }], undefined, false), undefined);
    const both = [lost, death(1, 2, PEER_LOST_EXIT)];
    assert.equal(
      firstFailure(both, undefined, false),
      undefined,
      'not while a worker may still fail otherwise',
    );
    assert.equal(firstFailure(both, undefined, true), 'rank 0 (pid 100) exited with code 3 (it lost a peer)');
    assert.equal(
      firstFailure([lost, death(1, 2, 0)], undefined, true),
      'rank 0 (pid 100) exited with code 3 (it lost a peer)',
    );
  });

  it('never names a worker that died after the launcher began stopping them', () => {
    const lost = death(0, 1, PEER_LOST_EXIT); // rank 1 hung: rank 0 lost it and stopped
    const termed: Death = { ...death(1, 2, null, 'SIGTERM'), stopped: true };
    assert.equal(
      firstFailure([lost, termed], undefined, true),
      'rank 0 (pid 100) exited with code 3 (it lost a peer)',
    );
  });
});
