// nccl.ts: the collective of CUDA workers: NCCL (loaded at run time) for tensors, with the TCP
// rendezvous (tcp.ts) handing rank 0's NCCL unique id to every rank. Its `enqueueMean` enqueues an
// average on the device's current stream and returns at once, so a training step can do it inside
// a captured CUDA graph (the gradients and the loss of the world, no host round trip).
import { type DeviceSpec, loadNccl, NcclComm, ncclUniqueId, Tensor } from '@mae-cuda/native';
import type { Collective } from './collective.js';
import { TcpCollective, type TcpOptions } from './tcp.js';

export class NcclCollective implements Collective {
  private constructor(
    private readonly tcp: TcpCollective,
    private readonly comm: NcclComm,
  ) {}

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
    this.comm.allReduce(t, 'avg');
  }

  async allReduceMean(t: Tensor): Promise<void> {
    this.comm.allReduce(t, 'avg');
    await t.toArray(); // wait for it (a host read orders after the stream's work)
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
    this.comm.destroy();
    this.tcp.close();
  }
}
