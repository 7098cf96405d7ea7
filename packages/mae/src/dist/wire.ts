// wire.ts: length-prefixed messages over a TCP socket (u32 little-endian byte count, then the
// bytes), read with a queue so a message split over several packets, or several messages in one
// packet, come out whole and in order. A closed or failed socket rejects every waiting read (with
// PeerLostError).
import type { Socket } from 'node:net';

/**
 * A peer's connection closed or failed under a collective: the rank that sees it stops because
 * another did (the launcher names that one, failure_order.ts in the CLI).
 */
export class PeerLostError extends Error {}

export class Wire {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  private failure?: Error;

  constructor(
    readonly socket: Socket,
    /** who is at the other end, for messages (renamed once a worker says its rank) */
    public peer: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.pump();
    });
    const fail = (why: string) => {
      if (this.failure) return;
      this.failure = new PeerLostError(`${this.peer} ${why}`);
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    };
    socket.on('error', (e) => fail(`connection failed: ${e.message}`));
    socket.on('close', () => fail('closed the connection (the worker stopped or died)'));
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.buffered >= 4) {
      const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const n = head.readUInt32LE(0);
      if (this.buffered < 4 + n) return;
      this.take(4);
      this.waiting.shift()!.resolve(Buffer.from(this.take(n)));
    }
  }

  send(data: Uint8Array): void {
    if (this.failure) throw this.failure;
    const head = Buffer.alloc(4);
    head.writeUInt32LE(data.byteLength, 0);
    this.socket.write(head);
    this.socket.write(data);
  }

  /** The next message; rejects after timeoutMs naming the peer, or when the connection fails. */
  receive(timeoutMs: number, what: string): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`${this.peer} sent no ${what} within ${(timeoutMs / 1000).toFixed(0)} s`));
      }, timeoutMs);
      const entry = {
        resolve: (b: Buffer) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiting.push(entry);
      this.pump();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
