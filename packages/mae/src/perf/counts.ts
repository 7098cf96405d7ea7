// counts.ts: the emulator's performance counters, one JSON line per grid run (MAE_EMU_COUNT,
// packages/native/emu/src/device_count.cpp), as a schema that is both the runtime check and the type.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const n = z.number().int().nonnegative();
const dims = z.tuple([n, n, n]);
/** global memory: warp-level requests, the 32-byte sectors they touched, the sectors of the bytes asked */
const sectors = z.object({ requests: n, sectors: n, ideal: n });
/** shared memory: requests, wavefronts through the banks, one per phase at best */
const wavefronts = z.object({ requests: n, wavefronts: n, ideal: n });

export const GridCounts = z.object({
  kernel: z.string().min(1),
  grid: dims,
  block: dims,
  smem: n,
  blocks_run: n,
  global_load: sectors,
  global_store: sectors,
  shared_load: wavefronts,
  shared_store: wavefronts,
  /** of the global load requests, those of asynchronous copies (cp.async, TMA; absent from older builds' files) */
  async_loads: n.default(0),
  /** warp-level waits for them (cp.async.wait_group that landed some, mbarrier waits on a TMA phase) */
  async_waits: n.default(0),
  /** a persistent kernel's tiles (MAE_COUNT_TILE): those the blocks run started, and the launch's */
  tiles: n.default(0),
  tiles_total: n.default(0),
  /** mma.m16n8k16 instructions (per warp) */
  mma: n,
  /** FLOPs of wgmma.mma_async (sm_90a; absent from counter files of older builds) */
  wgmma_flops: n.default(0),
  /** distinct sectors of each block, summed */
  block_sectors: n,
  /** distinct sectors of the run */
  unique_sectors: n,
  /** DRAM bytes of the whole grid estimated from the blocks run (see device_count.cpp) */
  dram_bytes: n,
});
export type GridCounts = z.infer<typeof GridCounts>;

/** The grid runs of a counter file, in launch order; a malformed line names its number. */
export function readCounts(path: string): GridCounts[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((line, i) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not JSON: ${line.slice(0, 80)}`);
    }
    const r = GridCounts.safeParse(json);
    if (!r.success)
      throw new Error(`${path}:${i + 1}: not a grid run's counters: ${r.error.issues[0]?.message}`);
    return r.data;
  });
}

/** Blocks in the launch's grid. */
export const gridBlocks = (c: GridCounts) => c.grid[0] * c.grid[1] * c.grid[2];
/** Threads per block. */
export const blockThreads = (c: GridCounts) => c.block[0] * c.block[1] * c.block[2];
