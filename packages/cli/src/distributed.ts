// distributed.ts: the pretrain command's two data-parallel roles. launchPlan reads the launcher
// flags (--gpus N per node, --nnodes, --node-rank, --master-addr, --master-port) and checks them
// before any worker starts (enough devices here, NCCL for CUDA); connectWorld joins a worker to
// its world: the TCP collective for CPU workers, NCCL (ids handed out over TCP) for CUDA ones.
import {
  type Collective,
  DEFAULT_MASTER_PORT,
  NcclCollective,
  TcpCollective,
  type WorldInfo,
} from '@mae-cuda/mae';
import { devices, findNccl } from '@mae-cuda/native';
import type { LaunchPlan } from './launch.js';

type Flags = Readonly<Record<string, unknown>>;

function intFlag(
  opts: Flags,
  key: string,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const v = opts[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new RangeError(`${flag}: must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** The launch asked for by the flags, or undefined for a single process. */
export function launchPlan(opts: Flags, device: string): LaunchPlan | undefined {
  const perNode = intFlag(opts, 'gpus', '--gpus', 1, 1024);
  const nnodes = intFlag(opts, 'nnodes', '--nnodes', 1, 65536) ?? 1;
  const nodeRank = intFlag(opts, 'nodeRank', '--node-rank', 0, nnodes - 1) ?? 0;
  const masterPort = intFlag(opts, 'masterPort', '--master-port', 1, 65535) ?? DEFAULT_MASTER_PORT;
  const masterAddr = opts.masterAddr;
  if (masterAddr !== undefined && (typeof masterAddr !== 'string' || masterAddr === ''))
    throw new RangeError('--master-addr: give the host of node 0');
  if (nnodes > 1 && masterAddr === undefined)
    throw new RangeError('--master-addr: a job of several nodes needs the address of node 0');
  if ((perNode ?? 1) === 1 && nnodes === 1) return undefined;
  const n = perNode ?? 1;
  const cpu = device === 'cpu';
  if (!cpu) {
    if (/^cuda:\d+$/.test(device))
      throw new RangeError(`--device ${device}: with --gpus give --device cuda (worker i takes cuda:i)`);
    const have = devices().filter((d) => d.type === 'cuda').length;
    if (have < n) throw new RangeError(`--gpus ${n}: this node has ${have} CUDA device(s)`);
    const nccl = findNccl();
    if (!nccl.found)
      throw new RangeError(
        `--gpus ${n}: data-parallel CUDA training needs NCCL (libnccl.so.2) and none was found; searched: ${nccl.searched.join(', ')}`,
      );
  }
  return {
    perNode: n,
    nnodes,
    nodeRank,
    masterAddr: (masterAddr as string | undefined) ?? '127.0.0.1',
    masterPort,
    cpu,
  };
}

/** Joins this worker to its world. */
export async function connectWorld(w: WorldInfo, device: string): Promise<Collective> {
  const where = { rank: w.rank, world: w.world, masterAddr: w.masterAddr, masterPort: w.masterPort };
  if (device === 'cpu') return TcpCollective.connect(where);
  return NcclCollective.connect(where, device as `cuda:${number}`);
}
