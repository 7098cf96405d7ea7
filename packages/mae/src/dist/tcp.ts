// tcp.ts: rendezvous and collectives over TCP, for CPU tensors. Rank 0 listens on
// MASTER_ADDR:MASTER_PORT; every other rank connects (retrying while rank 0 starts), says which
// rank of which world it is, and waits for rank 0's go once all have arrived. Collectives go
// through rank 0 (a star): it sums the ranks' values in f64 in rank order (so every run gives the
// same bits), and sends the result back. A rank that never arrives, a timeout, or a dropped
// connection (a dead worker) rejects with a message naming the rank.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Tensor } from '@mae-cuda/native';
import type { Collective } from './collective.js';
import { distTimeoutMs } from './env.js';
import { Wire } from './wire.js';

export interface TcpOptions {
  readonly rank: number;
  readonly world: number;
  readonly masterAddr: string;
  readonly masterPort: number;
  /** how long ranks wait for each other to arrive (default 300 s) */
  readonly joinTimeoutMs?: number;
  /** how long a collective waits for the other ranks (default MAE_DIST_TIMEOUT, else 1800 s) */
  readonly opTimeoutMs?: number;
}

const HELLO = 'mae-cuda/1';

function connectOnce(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port });
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      s.destroy();
      reject(e);
    });
  });
}

export class TcpCollective implements Collective {
  private constructor(
    readonly rank: number,
    readonly world: number,
    /** rank 0: the wire to rank r at r - 1; other ranks: the wire to rank 0 at 0 */
    private readonly wires: Wire[],
    private readonly opTimeoutMs: number,
    private readonly server?: Server,
  ) {}

  static async connect(o: TcpOptions): Promise<TcpCollective> {
    const { rank, world } = o;
    if (!Number.isInteger(world) || world < 1) throw new RangeError(`world size must be >= 1, got ${world}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= world)
      throw new RangeError(`rank must be in [0, ${world}), got ${rank}`);
    const joinMs = o.joinTimeoutMs ?? 300_000;
    const opMs = o.opTimeoutMs ?? distTimeoutMs();
    if (world === 1) return new TcpCollective(0, 1, [], opMs);
    return rank === 0 ? TcpCollective.host(o, joinMs, opMs) : TcpCollective.join(o, joinMs, opMs);
  }

  private static host(o: TcpOptions, joinMs: number, opMs: number): Promise<TcpCollective> {
    // a dense array: every() and flatMap() skip the holes of a sparse one
    const wires: (Wire | undefined)[] = Array.from({ length: o.world - 1 }, () => undefined);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (e?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (e) {
          server.close();
          for (const w of wires) w?.close();
          reject(e);
          return;
        }
        for (const w of wires) w!.send(Buffer.from('go'));
        resolve(new TcpCollective(0, o.world, wires as Wire[], opMs, server));
      };
      const timer = setTimeout(() => {
        const missing = wires.flatMap((w, i) => (w ? [] : [i + 1]));
        finish(
          new Error(
            `rendezvous on port ${o.masterPort}: rank(s) ${missing.join(', ')} of ${o.world} did not arrive within ${(joinMs / 1000).toFixed(0)} s`,
          ),
        );
      }, joinMs);
      const server = createServer((socket) => {
        const wire = new Wire(socket, 'a connecting worker');
        wire
          .receive(joinMs, 'hello')
          .then((b) => {
            const [tag, r, w] = b.toString().split(' ');
            const rank = Number(r);
            if (tag !== HELLO || Number(w) !== o.world || !(rank >= 1 && rank < o.world) || wires[rank - 1]) {
              wire.close();
              finish(
                new Error(
                  `rendezvous: a worker introduced itself as ${JSON.stringify(b.toString())}; expected a new rank of a world of ${o.world}`,
                ),
              );
              return;
            }
            wire.peer = `rank ${rank}`;
            wires[rank - 1] = wire;
            if (wires.every((x) => x)) finish();
          })
          .catch(() => wire.close());
      });
      server.on('error', (e) =>
        finish(new Error(`rendezvous: rank 0 cannot listen on port ${o.masterPort}: ${e.message}`)),
      );
      server.listen(o.masterPort);
    });
  }

  private static async join(o: TcpOptions, joinMs: number, opMs: number): Promise<TcpCollective> {
    const deadline = Date.now() + joinMs;
    let socket: Socket | undefined;
    let last = '';
    while (!socket) {
      try {
        socket = await connectOnce(o.masterAddr, o.masterPort);
      } catch (e) {
        last = (e as Error).message;
        if (Date.now() > deadline)
          throw new Error(
            `rank ${o.rank}: could not reach rank 0 at ${o.masterAddr}:${o.masterPort} within ${(joinMs / 1000).toFixed(0)} s (${last})`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const wire = new Wire(socket, 'rank 0');
    wire.send(Buffer.from(`${HELLO} ${o.rank} ${o.world}`));
    const go = await wire.receive(
      Math.max(1000, deadline - Date.now()),
      'go (waiting for every rank to arrive)',
    );
    if (go.toString() !== 'go')
      throw new Error(`rank ${o.rank}: rank 0 answered ${JSON.stringify(go.toString())}`);
    return new TcpCollective(o.rank, o.world, [wire], opMs);
  }

  async allReduceMean(t: Tensor): Promise<void> {
    if (t.dtype !== 'f32') throw new TypeError(`allReduceMean: only f32 tensors, got ${t.dtype}`);
    if (this.world === 1) return;
    const mine = (await t.toArray()) as Float32Array;
    const bytes = new Uint8Array(mine.buffer, mine.byteOffset, mine.byteLength);
    if (this.rank !== 0) {
      this.wires[0]!.send(bytes);
      t.write(this.f32(await this.wires[0]!.receive(this.opTimeoutMs, 'all-reduce result'), mine.length));
      return;
    }
    const acc = Float64Array.from(mine);
    const parts = await Promise.all(this.wires.map((w) => w.receive(this.opTimeoutMs, 'gradients')));
    for (const p of parts) {
      const v = this.f32(p, mine.length);
      for (let i = 0; i < acc.length; i++) acc[i]! += v[i]!;
    }
    const mean = new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) mean[i] = acc[i]! / this.world;
    const out = new Uint8Array(mean.buffer);
    for (const w of this.wires) w.send(out);
    t.write(mean);
  }

  async broadcast(t: Tensor): Promise<void> {
    if (this.world === 1) return;
    if (this.rank === 0) {
      const data = await t.toArray();
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      for (const w of this.wires) w.send(view);
      return;
    }
    const b = await this.wires[0]!.receive(this.opTimeoutMs, 'broadcast');
    if (b.byteLength !== t.nbytes)
      throw new Error(
        `broadcast: rank 0 sent ${b.byteLength} bytes for a ${t.nbytes}-byte tensor (the ranks disagree)`,
      );
    t.handle.copyFromHost(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }

  async barrier(): Promise<void> {
    if (this.world === 1) return;
    const ping = Buffer.from('b');
    if (this.rank !== 0) {
      this.wires[0]!.send(ping);
      await this.wires[0]!.receive(this.opTimeoutMs, 'barrier');
      return;
    }
    await Promise.all(this.wires.map((w) => w.receive(this.opTimeoutMs, 'barrier')));
    for (const w of this.wires) w.send(ping);
  }

  private f32(b: Buffer, n: number): Float32Array {
    if (b.byteLength !== n * 4)
      throw new Error(
        `all-reduce: a rank sent ${b.byteLength / 4} values, expected ${n} (the ranks disagree)`,
      );
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    return new Float32Array(copy.buffer);
  }

  close(): void {
    for (const w of this.wires) w.close();
    this.server?.close();
  }
}
