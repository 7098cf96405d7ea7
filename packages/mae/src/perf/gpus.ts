// gpus.ts: the GPUs the kernel report models (NVIDIA's SXM datasheets, H100 and H200: the same
// GH100 chip, different HBM), and what each path of our kernels can reach of them. The reachable
// fractions are the project's working figures until a GPU run recalibrates them: mma.sync about
// 60-65% of the dense bf16 peak, wgmma about 80-85%, HBM about 90% of its bandwidth.
export interface GpuModel {
  readonly name: string;
  readonly sms: number;
  /** SM clock of the dense peak, Hz (989.4 TFLOP/s = 132 SMs x 4096 FLOP/clk x 1.83 GHz) */
  readonly clockHz: number;
  /** dense bf16 tensor-core peak, FLOP/s */
  readonly bf16Flops: number;
  /** HBM bandwidth, bytes/s */
  readonly hbmBytesPerSec: number;
  /** L2 to SM bandwidth, bytes/s (a model figure: about 1.6x HBM on H100) */
  readonly l2BytesPerSec: number;
  readonly regsPerSm: number;
  readonly sharedPerSm: number;
  readonly sharedPerBlockMax: number;
  readonly threadsPerSm: number;
  readonly blocksPerSm: number;
}

const GH100 = {
  sms: 132,
  clockHz: 1.83e9,
  bf16Flops: 989.4e12,
  l2BytesPerSec: 5.5e12,
  regsPerSm: 65536,
  sharedPerSm: 228 * 1024,
  sharedPerBlockMax: 227 * 1024,
  threadsPerSm: 2048,
  blocksPerSm: 32,
} as const;

export const GPUS = {
  h100: { name: 'H100 SXM (model)', hbmBytesPerSec: 3.35e12, ...GH100 },
  h200: { name: 'H200 SXM (model)', hbmBytesPerSec: 4.8e12, ...GH100 },
} as const satisfies Record<string, GpuModel>;
export type GpuName = keyof typeof GPUS;

/** Fractions of the peaks each path reaches (recalibrated by the first GPU run). */
export const REACH = {
  mmaSync: 0.625,
  wgmma: 0.825,
  hbm: 0.9,
  l2: 0.8,
  /** shared memory: wavefronts per SM per clock */
  sharedWavefrontsPerClock: 1,
  /** L1: 32-byte sectors per SM per clock delivered to global loads and stores (128 B/clk) */
  l1SectorsPerClock: 4,
} as const;

/** The shortest modeled kernel: a launch in a CUDA graph and its tail, seconds. */
export const MIN_KERNEL_SECONDS = 2e-6;

/**
 * A global load's latency as a warp waits for it, seconds: the first GPU run (an H200,
 * 2026-11-30, the kernels of commit c0de93e) measured 0.18-0.22 us per load request per warp per
 * wave in the GEMMs, the attention kernels and LayerNorm's backward, whose warps issued their loads
 * one at a time. The report's `serial` estimate: the time if every warp's loads waited one by one
 * (asynchronous copies once per wait for them: cp.async.wait_group, an mbarrier wait on TMA).
 */
export const LOAD_LATENCY_SECONDS = 0.2e-6;
