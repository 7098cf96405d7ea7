// roofline.ts: the modeled time of one kernel launch on a GPU model, from the emulator's counters
// (counts.ts) scaled from the blocks it ran to the whole grid, and ptxas's resources (occupancy):
// the slowest of the tensor-core work (mma.sync and wgmma each at what it reaches), DRAM traffic (the distinct
// sectors of the grid as the emulator estimates them from its sample: L2 taken as perfect), L2-to-SM
// traffic (the distinct sectors of each block: L1 taken as perfect for a block's life), L1 traffic
// (every sector every request moves: where uncoalesced loads cost) and shared-memory wavefronts
// (bank conflicts), divided by the share of the GPU the grid keeps busy (occupancy.ts; for a
// persistent kernel, whose counts scale per tile, also by its blocks' balance: each runs the floor or
// the ceiling of its share of the tiles, the busiest sets the time), and never under a launch's floor. A model, not a
// measurement: it knows nothing of instruction issue or overlap between kernels, and of latency
// only through `serial`, the time if each warp's global loads waited one by one, asynchronous
// copies (cp.async, TMA) all at once where the warp waits for them (an upper estimate: a kernel that
// keeps several loads in flight beats it by up to their number).
import { blockThreads, type GridCounts, gridBlocks } from './counts.js';
import { type GpuModel, LOAD_LATENCY_SECONDS, MIN_KERNEL_SECONDS, REACH } from './gpus.js';
import { type Occupancy, occupancy } from './occupancy.js';

/** FLOPs of one mma.m16n8k16 (16 x 8 x 16 multiply-adds). */
export const MMA_16816_FLOPS = 2 * 16 * 8 * 16;

export type Bound = 'tensor cores' | 'DRAM' | 'L2' | 'L1' | 'shared memory' | 'launch';

export interface LaunchModel {
  readonly counts: GridCounts;
  /** grid blocks per block the emulator ran (a persistent kernel's: the launch's tiles per tile run) */
  readonly scale: number;
  /** a persistent kernel's mean tiles a block over its busiest block's (1 for other kernels) */
  readonly balance: number;
  readonly registers?: number;
  readonly occupancy: Occupancy;
  readonly tensorFlops: number;
  readonly dramBytes: number;
  readonly l2Bytes: number;
  /** sectors through L1 (every request's) */
  readonly l1Sectors: number;
  readonly sharedWavefronts: number;
  /** global sectors moved per sector asked for (1 = coalesced), loads and stores */
  readonly coalescing: number;
  /** shared wavefronts per ideal wavefront (1 = no bank conflict) */
  readonly bankConflicts: number;
  readonly seconds: Readonly<Record<Exclude<Bound, 'launch'>, number>>;
  readonly bound: Bound;
  readonly time: number;
  /** loads a warp waits for (of the blocks run): its load requests, asynchronous copies once per wait for them */
  readonly loadsPerWarp: number;
  /** seconds if each warp's loads waited one by one: waves x loads per warp x the load latency */
  readonly serial: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 1);

export function modelLaunch(
  c: GridCounts,
  gpu: GpuModel,
  registers: number | undefined,
  staticShared = 0,
): LaunchModel {
  const blocks = gridBlocks(c);
  const persistent = c.tiles > 0 && c.tiles_total > 0;
  const scale = persistent ? c.tiles_total / c.tiles : c.blocks_run > 0 ? blocks / c.blocks_run : 0;
  const share = c.tiles_total / blocks;
  const balance = persistent ? share / Math.ceil(share) : 1;
  const occ = occupancy(gpu, blockThreads(c), registers, staticShared + c.smem, blocks);
  const mmaFlops = c.mma * MMA_16816_FLOPS * scale,
    wgmmaFlops = c.wgmma_flops * scale;
  const tensorFlops = mmaFlops + wgmmaFlops;
  const dramBytes = c.dram_bytes;
  const sectors = c.global_load.sectors + c.global_store.sectors;
  const l1Sectors = sectors * scale;
  const l2Bytes = c.block_sectors * 32 * scale;
  const sharedWavefronts = (c.shared_load.wavefronts + c.shared_store.wavefronts) * scale;
  const seconds = {
    'tensor cores': mmaFlops / (gpu.bf16Flops * REACH.mmaSync) + wgmmaFlops / (gpu.bf16Flops * REACH.wgmma),
    DRAM: dramBytes / (gpu.hbmBytesPerSec * REACH.hbm),
    L2: l2Bytes / (gpu.l2BytesPerSec * REACH.l2),
    L1: l1Sectors / (gpu.sms * gpu.clockHz * REACH.l1SectorsPerClock),
    'shared memory': sharedWavefronts / (gpu.sms * gpu.clockHz * REACH.sharedWavefrontsPerClock),
  };
  let bound: Bound = 'launch';
  let worst = 0;
  for (const [k, s] of Object.entries(seconds) as [Exclude<Bound, 'launch'>, number][])
    if (s > worst) [bound, worst] = [k, s];
  const busy = worst / (occ.waveEfficiency * balance);
  const time = Math.max(busy, MIN_KERNEL_SECONDS);
  const warps = c.blocks_run * Math.ceil(blockThreads(c) / 32);
  const waited = c.global_load.requests - c.async_loads + c.async_waits;
  const loadsPerWarp = warps > 0 ? waited / warps : 0;
  // the busiest block's warps: a persistent kernel's blocks run ceil(share) tiles, the sample c.tiles
  const busiest = persistent ? (Math.ceil(share) * c.blocks_run) / c.tiles : 1;
  return {
    counts: c,
    scale,
    balance,
    ...(registers === undefined ? {} : { registers }),
    occupancy: occ,
    tensorFlops,
    dramBytes,
    l2Bytes,
    l1Sectors,
    sharedWavefronts,
    coalescing: ratio(sectors, c.global_load.ideal + c.global_store.ideal),
    bankConflicts: ratio(
      c.shared_load.wavefronts + c.shared_store.wavefronts,
      c.shared_load.ideal + c.shared_store.ideal,
    ),
    seconds,
    bound: time > busy ? 'launch' : bound,
    time,
    loadsPerWarp,
    serial: Math.max(occ.waves * loadsPerWarp * busiest * LOAD_LATENCY_SECONDS, time),
  };
}
