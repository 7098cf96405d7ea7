// commands/kernel_report.ts: `mae-cuda kernel-report` (issue #15): one training step of a preset at a
// batch size run on the CUDA emulator (MAE_CUDA_EMULATOR=1), a sample of each grid's blocks,
// with the emulator's performance counters; each kernel launch modeled on an H100 or H200
// (registers from the build's ptxas report, coalescing, bank conflicts, tensor-core work, DRAM
// traffic, occupancy and waves), and the modeled step time, images/s and MFU. It is a model
// everywhere it is printed. --json FILE writes every launch's counters and model.
import { writeFileSync } from 'node:fs';
import {
  countStep,
  formatDuration,
  GPUS,
  type GpuName,
  modelReport,
  PRECISIONS,
  type PresetName,
  preset,
  presetNames,
} from '@mae-cuda/mae';
import { buildKernelResources, type DeviceSpec, emulatorLoaded } from '@mae-cuda/native';
import { z } from 'zod';
import {
  formatKernelClasses,
  formatKernelReport,
  formatKernelTotals,
} from '../bench/kernel_report_format.js';
import { defineCommand } from '../command.js';
import { intOption, MAX_BATCH } from '../numbers.js';
import { ProgressLine } from '../progress_line.js';

export const options = z.strictObject({
  model: z.enum(presetNames as [PresetName, ...PresetName[]]).default('mae_tiny_28'),
  batch: intOption({ min: 1, max: MAX_BATCH }).default(16),
  sampleBlocks: intOption({ min: 1, max: 1 << 20 })
    .default(4)
    .describe('blocks emulated per grid, spread over it'),
  gpu: z
    .enum(Object.keys(GPUS) as [GpuName, ...GpuName[]])
    .default('h100')
    .describe('the GPU model of the tables'),
  precision: z.enum(PRECISIONS).default('auto'),
  top: intOption({ min: 1, max: 100000 }).default(40).describe('kernels listed'),
  markdown: z.boolean().default(false),
  json: z.string().optional(),
});

export const kernelReportCommand = defineCommand({
  name: 'kernel-report',
  summary:
    "model one step kernel by kernel on an H100/H200 from the CUDA emulator's counters (no GPU needed)",
  usage:
    'MAE_CUDA_EMULATOR=1 mae-cuda kernel-report [--model mae_tiny_28] [--batch 16] [--sample-blocks 4] [--gpu h100|h200]\n' +
    '    [--precision auto|f32|bf16] [--top 40] [--markdown] [--json out.json]',
  options,
  async run(o) {
    if (!emulatorLoaded()) {
      console.error(
        'mae-cuda kernel-report: it runs the step on the CUDA emulator: MAE_CUDA_EMULATOR=1 mae-cuda kernel-report ...',
      );
      return 2;
    }
    const model = preset(o.model);
    const device: DeviceSpec = 'cuda:0';
    const base = {
      name: o.model,
      model,
      device,
      batch: o.batch,
      sampleBlocks: o.sampleBlocks,
      precision: o.precision,
    };
    console.error(
      `kernel-report: emulating one step of ${o.model} batch ${o.batch}, ${o.sampleBlocks} blocks per grid...`,
    );
    const t0 = performance.now();
    const progress = new ProgressLine(process.stderr);
    const counts = await countStep(base, (launches) => {
      const elapsed = progress.due();
      if (elapsed === undefined) return;
      progress.draw(
        `kernel-report: ${launches} launches emulated, ${(launches / Math.max(elapsed, 1e-9)).toFixed(1)}/s, ` +
          `elapsed ${formatDuration(elapsed)}`,
      );
    });
    progress.end();
    console.error(
      `kernel-report: ${counts.length} launches counted in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    // the counts modeled on each GPU, with the build's ptxas registers (read once)
    const resources = buildKernelResources();
    const gpus = Object.keys(GPUS) as GpuName[];
    const all = gpus.map((gpu) => modelReport(counts, { ...base, gpu, ...(resources ? { resources } : {}) }));
    const main = all[gpus.indexOf(o.gpu)]!;
    console.log(formatKernelReport(main, o.top, o.markdown));
    console.log('');
    console.log(formatKernelClasses(main, o.markdown));
    console.log('');
    console.log(formatKernelTotals(all, o.markdown));
    if (o.json)
      writeFileSync(
        o.json,
        `${JSON.stringify({ model: 'emulator counts on a GPU model; not a measurement', reports: all }, null, 2)}\n`,
      );
    return 0;
  },
});
