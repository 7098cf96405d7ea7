// env.ts: the world a worker belongs to, read from its environment as torchrun-style launchers
// (and `mae-cuda pretrain --gpus N`) set it: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT; or as Slurm sets it for `srun`: SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID, SLURM_NTASKS_PER_NODE / SLURM_TASKS_PER_NODE, SLURM_NODELIST (the first node is
// the master unless MASTER_ADDR is set); or as mpirun does: OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK,
// LOCAL_SIZE} (Open MPI) or PMI_RANK, PMI_SIZE, MPI_LOCALRANKID, MPI_LOCALNRANKS (MPICH, Intel MPI),
// with MASTER_ADDR naming rank 0's host. Every malformed value is refused naming the variable.

export interface WorldInfo {
  readonly rank: number;
  readonly world: number;
  readonly localRank: number;
  readonly localWorld: number;
  readonly masterAddr: string;
  readonly masterPort: number;
  /** which convention the values came from */
  readonly source: 'torchrun' | 'slurm' | 'mpi';
}

export const DEFAULT_MASTER_PORT = 29500;

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, min: number): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min)
    throw new RangeError(`environment: ${name}=${JSON.stringify(v)} must be an integer >= ${min}`);
  return Number(v);
}

/** The first host of a Slurm node list: "gpu[03-05,09],cpu1" -> "gpu03". */
export function firstSlurmHost(nodelist: string): string {
  const m = /^([^,[\]]+)(?:\[([^\]]+)\])?/.exec(nodelist.trim());
  if (!m) throw new RangeError(`environment: SLURM_NODELIST=${JSON.stringify(nodelist)} has no host`);
  if (!m[2]) return m[1]!;
  const first = m[2].split(',')[0]!.split('-')[0]!;
  return `${m[1]}${first}`;
}

/** The world from the environment, or undefined for a plain single process. */
export function worldFromEnv(env: Env = process.env): WorldInfo | undefined {
  const port = int(env, 'MASTER_PORT', 1);
  if (port !== undefined && port > 65535)
    throw new RangeError(`environment: MASTER_PORT=${port} is not a port`);
  const world = int(env, 'WORLD_SIZE', 1);
  if (world !== undefined) {
    const rank = int(env, 'RANK', 0);
    if (rank === undefined) throw new RangeError('environment: WORLD_SIZE is set but RANK is not');
    if (rank >= world) throw new RangeError(`environment: RANK=${rank} must be below WORLD_SIZE=${world}`);
    const localWorld = int(env, 'LOCAL_WORLD_SIZE', 1) ?? world;
    const localRank = int(env, 'LOCAL_RANK', 0) ?? rank % localWorld;
    if (localRank >= localWorld)
      throw new RangeError(
        `environment: LOCAL_RANK=${localRank} must be below LOCAL_WORLD_SIZE=${localWorld}`,
      );
    const masterAddr = env.MASTER_ADDR || '127.0.0.1';
    return {
      rank,
      world,
      localRank,
      localWorld,
      masterAddr,
      masterPort: port ?? DEFAULT_MASTER_PORT,
      source: 'torchrun',
    };
  }
  // mpirun: Open MPI's variables, or the PMI ones of MPICH and Intel MPI
  const mpiWorld = int(env, 'OMPI_COMM_WORLD_SIZE', 1) ?? int(env, 'PMI_SIZE', 1);
  if (mpiWorld !== undefined) {
    const rank = int(env, 'OMPI_COMM_WORLD_RANK', 0) ?? int(env, 'PMI_RANK', 0);
    if (rank === undefined || rank >= mpiWorld)
      throw new RangeError(
        `environment: the MPI rank (${rank}) must be below the MPI world size ${mpiWorld}`,
      );
    const localWorld =
      int(env, 'OMPI_COMM_WORLD_LOCAL_SIZE', 1) ?? int(env, 'MPI_LOCALNRANKS', 1) ?? mpiWorld;
    const localRank =
      int(env, 'OMPI_COMM_WORLD_LOCAL_RANK', 0) ?? int(env, 'MPI_LOCALRANKID', 0) ?? rank % localWorld;
    return {
      rank,
      world: mpiWorld,
      localRank,
      localWorld,
      masterAddr: env.MASTER_ADDR || '127.0.0.1',
      masterPort: port ?? DEFAULT_MASTER_PORT,
      source: 'mpi',
    };
  }
  const ntasks = int(env, 'SLURM_NTASKS', 1);
  if (ntasks !== undefined) {
    const rank = int(env, 'SLURM_PROCID', 0);
    if (rank === undefined) throw new RangeError('environment: SLURM_NTASKS is set but SLURM_PROCID is not');
    if (rank >= ntasks)
      throw new RangeError(`environment: SLURM_PROCID=${rank} must be below SLURM_NTASKS=${ntasks}`);
    const perNode =
      int(env, 'SLURM_NTASKS_PER_NODE', 1) ??
      Number((env.SLURM_TASKS_PER_NODE ?? '').match(/^\d+/)?.[0] ?? ntasks);
    const localRank = int(env, 'SLURM_LOCALID', 0) ?? rank % perNode;
    const masterAddr =
      env.MASTER_ADDR || (env.SLURM_NODELIST ? firstSlurmHost(env.SLURM_NODELIST) : '127.0.0.1');
    return {
      rank,
      world: ntasks,
      localRank,
      localWorld: perNode,
      masterAddr,
      masterPort: port ?? DEFAULT_MASTER_PORT,
      source: 'slurm',
    };
  }
  return undefined;
}

/** How long the run may go without a step completing before NCCL is aborted (MAE_DIST_TIMEOUT, s). */
export function distTimeoutMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const v = env.MAE_DIST_TIMEOUT;
  if (v === undefined || v === '') return 1_800_000;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0)
    throw new RangeError(
      `environment: MAE_DIST_TIMEOUT=${JSON.stringify(v)} must be a positive number of seconds`,
    );
  return Number(v) * 1000;
}
