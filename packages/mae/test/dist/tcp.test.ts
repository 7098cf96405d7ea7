// The TCP collective between ranks of one process: rendezvous, the mean of every rank's tensor
// (deterministic, f64 sums in rank order), broadcast, barrier; a rank that never arrives and a
// rank that dies are named in the errors.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Tensor } from '@mae-cuda/native';
import { TcpCollective } from '../../src/dist/tcp.js';

let port = 31000 + Math.floor(Math.random() * 2000);
const world = (n: number, opts: { joinTimeoutMs?: number; opTimeoutMs?: number } = {}) => {
  port += 1;
  return Promise.all(
    Array.from({ length: n }, (_, rank) =>
      TcpCollective.connect({ rank, world: n, masterAddr: '127.0.0.1', masterPort: port, ...opts }),
    ),
  );
};

describe('TcpCollective', function () {
  this.timeout(20000);

  it('averages, broadcasts and waits at barriers across 3 ranks', async () => {
    const ranks = await world(3);
    const ts = ranks.map((c) =>
      Tensor.fromArray(
        'f32',
        [5],
        [1, 2, 3, 4, 5].map((x) => x * (c.rank + 1)),
      ),
    );
    await Promise.all(ranks.map((c, i) => c.allReduceMean(ts[i]!)));
    for (const t of ts) assert.deepEqual([...t.toArraySync()], [2, 4, 6, 8, 10]);
    const b = ranks.map((c) => Tensor.fromArray('i32', [2], c.rank === 0 ? [7, -3] : [0, 0]));
    await Promise.all(ranks.map((c, i) => c.broadcast(b[i]!)));
    for (const t of b) assert.deepEqual([...t.toArraySync()], [7, -3]);
    await Promise.all(ranks.map((c) => c.barrier()));
    for (const c of ranks) c.close();
  });

  it('a busy MASTER_PORT: rank 0 says it cannot listen there, at once', async () => {
    port += 1;
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(port, r));
    try {
      const t0 = Date.now();
      await assert.rejects(
        TcpCollective.connect({
          rank: 0,
          world: 2,
          masterAddr: '127.0.0.1',
          masterPort: port,
          joinTimeoutMs: 10000,
        }),
        new RegExp(`rendezvous: rank 0 cannot listen on port ${port}: .*EADDRINUSE`),
      );
      assert.ok(Date.now() - t0 < 5000, 'it waited for the join timeout');
    } finally {
      taken.close();
    }
  });

  it('names the ranks that never arrive', async () => {
    port += 1;
    await assert.rejects(
      TcpCollective.connect({
        rank: 0,
        world: 3,
        masterAddr: '127.0.0.1',
        masterPort: port,
        joinTimeoutMs: 500,
      }),
      /rank\(s\) 1, 2 of 3 did not arrive within/,
    );
  });

  it('a worker that cannot reach rank 0 says where it looked', async () => {
    await assert.rejects(
      TcpCollective.connect({
        rank: 1,
        world: 2,
        masterAddr: '127.0.0.1',
        masterPort: 1,
        joinTimeoutMs: 300,
      }),
      /rank 1: could not reach rank 0 at 127\.0\.0\.1:1/,
    );
  });

  it('a dead rank fails the collective on the others, naming it', async () => {
    const [r0, r1] = await world(2);
    r1!.close(); // as if the worker died
    await assert.rejects(
      r0!.allReduceMean(Tensor.zeros('f32', [3])),
      /rank 1 (closed the connection|connection failed)/,
    );
    r0!.close();
  });

  it('times out a collective a rank never joins', async () => {
    const [r0, r1] = await world(2, { opTimeoutMs: 300 });
    await assert.rejects(r0!.barrier(), /rank 1 sent no barrier within/);
    r0!.close();
    r1!.close();
  });

  it('refuses ranks that disagree about sizes', async () => {
    const [r0, r1] = await world(2);
    const p = r0!.allReduceMean(Tensor.zeros('f32', [4]));
    const q = r1!.allReduceMean(Tensor.zeros('f32', [3]));
    await assert.rejects(p, /a rank sent 3 values, expected 4/);
    r0!.close();
    await q.catch(() => {});
    r1!.close();
  });
});

describe('NcclCollective', () => {
  it('without NCCL, says what it searched before any rank waits for another', async function () {
    if (process.env.MAE_NCCL_PATH) this.skip();
    const { findNccl } = await import('@mae-cuda/native');
    if (findNccl().found) this.skip();
    const { NcclCollective } = await import('../../src/dist/nccl.js');
    await assert.rejects(
      NcclCollective.connect(
        { rank: 1, world: 2, masterAddr: '127.0.0.1', masterPort: 1, joinTimeoutMs: 100 },
        'cuda:0',
      ),
      /libnccl\.so\.2/,
    );
  });
});
