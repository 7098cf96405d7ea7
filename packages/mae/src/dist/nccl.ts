// nccl.ts: the collective of CUDA workers: NCCL (loaded at run time) for tensors, with the TCP
// rendezvous (tcp.ts) handing rank 0's NCCL unique id to every rank. Its `enqueueMean` enqueues an
// average on the device's current stream and returns at once, so a training step can do it inside
// a captured CUDA graph (the gradients and the loss of the world, no host round trip); `overlap`
// all-reduces gradient buckets on a side stream while the backward goes on (event fork and join,
// which a graph capture records as well).
import {
  DeviceEvent,
  type DeviceSpec,
  loadNccl,
  NcclComm,
  ncclErrorString,
  ncclGroup,
  ncclUniqueId,
  Stream,
  Tensor,
} from '@mae-cuda/native';
import type { Collective, GradOverlap } from './collective.js';
import { distTimeoutMs } from './env.js';
import { TcpCollective, type TcpOptions } from './tcp.js';

/** How often the watchdog asks NCCL for a background error (a dead rank, a broken network). */
const WATCH_MS = 2000;

export class NcclCollective implements Collective {
  private failure?: Error;
  private readonly watchdog: NodeJS.Timeout;
  private lastProgress = Date.now();
  private readonly timeoutMs = distTimeoutMs();

  private constructor(
    private readonly tcp: TcpCollective,
    private readonly comm: NcclComm,
  ) {
    // a failed communicator is aborted, which ends its pending kernels, so the step's next host
    // read returns and check() stops the run (instead of hanging on a collective for ever)
    this.watchdog = setInterval(() => {
      if (this.failure) return;
      const code = this.comm.asyncError();
      if (code !== 0 && code !== 7 /* ncclInProgress */)
        this.failure = new Error(
          `rank ${this.rank}: NCCL failed in the background (${ncclErrorString(code)}): a rank died or the network failed`,
        );
      else if (Date.now() - this.lastProgress > this.timeoutMs)
        this.failure = new Error(
          `rank ${this.rank}: no step completed in ${(this.timeoutMs / 1000).toFixed(0)} s (MAE_DIST_TIMEOUT): a rank is stuck; aborting NCCL`,
        );
      if (this.failure) this.comm.abort();
    }, WATCH_MS);
    this.watchdog.unref();
  }

  /** Throws the background failure, if any; otherwise counts as progress (the watchdog's clock). */
  check(): void {
    if (this.failure) throw this.failure;
    this.lastProgress = Date.now();
  }

  get rank(): number {
    return this.tcp.rank;
  }
  get world(): number {
    return this.tcp.world;
  }

  static async connect(o: TcpOptions, device: DeviceSpec): Promise<NcclCollective> {
    loadNccl(); // a clear error naming what was searched when NCCL is missing
    const tcp = await TcpCollective.connect(o);
    try {
      const id = Tensor.fromArray('u8', [128], o.rank === 0 ? ncclUniqueId() : new Uint8Array(128));
      await tcp.broadcast(id);
      const comm = await NcclComm.init(o.world, o.rank, id.toArraySync() as Uint8Array, device);
      return new NcclCollective(tcp, comm);
    } catch (e) {
      tcp.close();
      throw e;
    }
  }

  /** t = the mean over the world, enqueued on the current stream (capturable). */
  enqueueMean(t: Tensor): void {
    this.check();
    this.comm.allReduce(t, 'avg');
  }

  overlap(main: Stream): GradOverlap {
    const side = Stream.create(main.device);
    const events: DeviceEvent[] = [];
    const done = DeviceEvent.create(main.device);
    let next = 0;
    return {
      bucket: (tensors) => {
        this.check();
        if (events.length <= next) events.push(DeviceEvent.create(main.device));
        const ready = events[next++]!;
        ready.record(main).block(side); // fork: the side stream waits for these gradients
        ncclGroup(() => {
          for (const t of tensors) this.comm.allReduce(t, 'avg', side);
        });
      },
      join: () => {
        done.record(side).block(main); // join: the optimiser waits for every bucket
        next = 0;
      },
    };
  }

  async allReduceMean(t: Tensor): Promise<void> {
    this.enqueueMean(t);
    await t.toArray(); // wait for it (a host read orders after the stream's work)
    this.check();
  }

  async broadcast(t: Tensor): Promise<void> {
    if (t.device.type !== 'cuda') return this.tcp.broadcast(t);
    this.comm.broadcast(t, 0);
    await t.toArray();
  }

  barrier(): Promise<void> {
    return this.tcp.barrier();
  }

  close(): void {
    clearInterval(this.watchdog);
    if (!this.failure) this.comm.destroy();
    this.tcp.close();
  }
}
