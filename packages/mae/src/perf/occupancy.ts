// occupancy.ts: how many blocks of a kernel one SM holds at once, from its registers (ptxas, in
// 256-register units per warp), its shared memory (static from ptxas plus the launch's dynamic
// bytes, in 1 KiB units plus 1 KiB the driver reserves per block), its threads and the SM's block
// limit, as CUDA's occupancy calculator computes it; the waves a grid takes on the whole GPU, and
// the share of the GPU they keep busy (the model's scaling of a kernel's ideal time).
import type { GpuModel } from './gpus.js';

export interface Occupancy {
  readonly blocksPerSm: number;
  /** what limits it (registers only when they are known: without ptxas's report they are not) */
  readonly limit: 'registers' | 'shared memory' | 'threads' | 'blocks';
  readonly registersKnown: boolean;
  readonly waves: number;
  /** the share of the SMs' block slots the grid keeps busy over its waves */
  readonly waveEfficiency: number;
}

const up = (x: number, unit: number) => Math.ceil(x / unit) * unit;

export function occupancy(
  gpu: GpuModel,
  threads: number,
  registers: number | undefined,
  sharedBytes: number,
  gridBlocks: number,
): Occupancy {
  const warps = Math.ceil(threads / 32);
  const limits: [Occupancy['limit'], number][] = [
    ['threads', Math.floor(gpu.threadsPerSm / (warps * 32))],
    ['blocks', gpu.blocksPerSm],
    ['shared memory', Math.floor(gpu.sharedPerSm / (up(sharedBytes, 1024) + 1024))],
  ];
  if (registers !== undefined)
    limits.push(['registers', Math.floor(gpu.regsPerSm / (up(registers * 32, 256) * warps))]);
  let [limit, blocksPerSm] = limits[0]!;
  for (const [l, n] of limits)
    if (n < blocksPerSm) {
      limit = l;
      blocksPerSm = n;
    }
  const slots = gpu.sms * Math.max(blocksPerSm, 1);
  const waves = Math.ceil(gridBlocks / slots);
  // one wave: the share of the SMs with a block (a lone block may use its SM's whole rate); more:
  // the share of the block slots the waves fill (the last wave's idle slots are the loss)
  const waveEfficiency = waves <= 1 ? Math.min(gridBlocks, gpu.sms) / gpu.sms : gridBlocks / (waves * slots);
  return { blocksPerSm, limit, registersKnown: registers !== undefined, waves, waveEfficiency };
}
