// report.ts: the kernel report's run (issue #15): one eager training step (TrainStep: forward, loss,
// backward, AdamW; no CUDA graph, so each kernel launches once) of a preset at a batch size on the
// emulated CUDA device, with the access checks off, new memory left unfilled (what no sampled block
// touches is never mapped in) and the performance counters on, running a sample of the blocks of
// each grid; then each launch modeled on a GPU (roofline.ts) with ptxas's registers from the build,
// summed per kernel and per kernel class, and the modeled step time, images/s and MFU. A model of a
// GPU from an emulator's counts, not a measurement: everything it prints says so.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureEmulator, type DeviceSpec, type KernelResources } from '@mae-cuda/native';
import { stepFlops } from '../bench/flops.js';
import { type KernelClass, kernelClass } from '../bench/kernels.js';
import type { MaeConfig } from '../config/model.js';
import type { PrecisionSetting } from '../model/plan.js';
import { makeTrainStep } from '../train/step_check.js';
import { type GridCounts, readCounts } from './counts.js';
import { GPUS, type GpuModel, type GpuName } from './gpus.js';
import { type LaunchModel, modelLaunch } from './roofline.js';

export interface KernelReportOptions {
  readonly name: string;
  readonly model: MaeConfig;
  readonly device: DeviceSpec;
  readonly batch: number;
  /** blocks emulated per grid (spread over it) */
  readonly sampleBlocks: number;
  readonly gpu: GpuName;
  readonly precision?: PrecisionSetting;
  /** ptxas's resources by kernel (none: occupancy without registers) */
  readonly resources?: Map<string, KernelResources>;
}

export interface KernelRow {
  readonly kernel: string;
  readonly op: string;
  readonly class: KernelClass | 'other';
  readonly launches: number;
  /** the first launch's model (grid, block, occupancy, ratios) */
  readonly first: LaunchModel;
  readonly time: number;
  /** seconds if every warp's loads waited one by one (roofline.ts) */
  readonly serial: number;
  readonly tensorFlops: number;
  readonly dramBytes: number;
  /** sectors moved per sector asked for, over all launches */
  readonly coalescing: number;
  readonly bankConflicts: number;
}

export interface KernelReport {
  readonly model: string;
  readonly batch: number;
  readonly gpu: GpuModel;
  readonly sampleBlocks: number;
  readonly registersKnown: boolean;
  readonly launches: readonly LaunchModel[];
  /** by modeled time, longest first */
  readonly kernels: readonly KernelRow[];
  readonly stepSeconds: number;
  /** the step if every warp's loads waited one by one */
  readonly serialStepSeconds: number;
  readonly imagesPerSec: number;
  readonly modelFlopsPerImage: number;
  /** model FLOPs per second over the dense bf16 peak */
  readonly mfu: number;
}

/** The op a generated kernel belongs to: `<op>_cuda_<variant>[_k<n>...]`. */
export const kernelOp = (kernel: string) => kernel.split('_cuda_')[0] ?? kernel;

/** Runs one step on the emulated device and returns each grid run's counters, in launch order. */
export async function countStep(
  o: Omit<KernelReportOptions, 'gpu' | 'resources'>,
  onProgress?: (launches: number) => void,
): Promise<GridCounts[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mae-kernel-report-'));
  const file = join(dir, 'counts.jsonl');
  // the launches counted so far: the counter file's lines (one per grid run), read every second
  const poll = onProgress
    ? setInterval(() => {
        if (existsSync(file)) onProgress(readFileSync(file, 'utf8').split('\n').length - 1);
      }, 1000)
    : undefined;
  configureEmulator({ checks: 'none', fill: false, sampleBlocks: o.sampleBlocks });
  const step = makeTrainStep({
    model: o.model,
    device: o.device,
    batch: o.batch,
    steps: 1,
    graph: false,
    ...(o.precision ? { precision: o.precision } : {}),
  });
  try {
    await step.synchronize();
    configureEmulator({ countFile: file });
    step.run();
    await step.synchronize();
    configureEmulator({ countFile: '' });
    return readCounts(file);
  } finally {
    clearInterval(poll);
    configureEmulator({ countFile: '', sampleBlocks: 0, checks: 'all', fill: true });
    step.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sumRows(launches: readonly LaunchModel[]): KernelRow[] {
  const by = new Map<string, LaunchModel[]>();
  for (const l of launches) {
    const ls = by.get(l.counts.kernel);
    if (ls) ls.push(l);
    else by.set(l.counts.kernel, [l]);
  }
  const rows = [...by].map(([kernel, ls]): KernelRow => {
    const sum = (f: (l: LaunchModel) => number) => ls.reduce((s, l) => s + f(l), 0);
    const g = (l: LaunchModel) => l.counts.global_load.sectors + l.counts.global_store.sectors;
    const gi = (l: LaunchModel) => l.counts.global_load.ideal + l.counts.global_store.ideal;
    const s = (l: LaunchModel) => l.counts.shared_load.wavefronts + l.counts.shared_store.wavefronts;
    const si = (l: LaunchModel) => l.counts.shared_load.ideal + l.counts.shared_store.ideal;
    const op = kernelOp(kernel);
    return {
      kernel,
      op,
      class: kernelClass(op) ?? 'other',
      launches: ls.length,
      first: ls[0]!,
      time: sum((l) => l.time),
      serial: sum((l) => l.serial),
      tensorFlops: sum((l) => l.tensorFlops),
      dramBytes: sum((l) => l.dramBytes),
      coalescing: sum(gi) > 0 ? sum((l) => g(l) * l.scale) / sum((l) => gi(l) * l.scale) : 1,
      bankConflicts: sum(si) > 0 ? sum((l) => s(l) * l.scale) / sum((l) => si(l) * l.scale) : 1,
    };
  });
  return rows.sort((a, b) => b.time - a.time);
}

/** Models counted launches on a GPU (no emulator needed: for tests and saved counter files). */
export function modelReport(
  counts: readonly GridCounts[],
  o: Pick<KernelReportOptions, 'name' | 'model' | 'batch' | 'sampleBlocks' | 'gpu' | 'resources'>,
): KernelReport {
  const gpu = GPUS[o.gpu];
  const res = o.resources;
  const launches = counts.map((c) => {
    const r = res?.get(c.kernel);
    return modelLaunch(c, gpu, r?.registers, r?.sharedBytes ?? 0);
  });
  const stepSeconds = launches.reduce((s, l) => s + l.time, 0);
  const flops = stepFlops(o.model).step;
  const imagesPerSec = stepSeconds > 0 ? o.batch / stepSeconds : 0;
  return {
    model: o.name,
    batch: o.batch,
    gpu,
    sampleBlocks: o.sampleBlocks,
    registersKnown: res !== undefined,
    launches,
    kernels: sumRows(launches),
    stepSeconds,
    serialStepSeconds: launches.reduce((s, l) => s + l.serial, 0),
    imagesPerSec,
    modelFlopsPerImage: flops,
    mfu: (imagesPerSec * flops) / gpu.bf16Flops,
  };
}
