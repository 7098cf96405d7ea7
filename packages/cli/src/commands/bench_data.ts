// commands/bench_data.ts: `mae-cuda bench-data --data SRC [--input-size 224] [--batch 256]
// [--num-workers N] [--batches 10] [--device D] [--torchvision PYTHON] [--json FILE]`: images/s of
// the input pipeline alone (decoded, cropped, flipped, batched as pretrain reads them; with
// --device also uploaded and normalised there), per core, and with
// --torchvision the official pipeline (torchvision ImageFolder + the same transform in a
// DataLoader with as many workers) in the same run, and the ratio. Speed is printed, not asserted.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DataError, SOURCE_FORMATS, type SourceFormat } from '@mae-cuda/mae';
import { z } from 'zod';
import {
  benchLoader,
  benchTorchvision,
  type DataBenchSettings,
  type TorchvisionResult,
} from '../bench/data_run.js';
import { defineCommand } from '../command.js';
import { intOption, MAX_BATCH } from '../numbers.js';

export const options = z.strictObject({
  data: z
    .string({ message: 'give the source: --data PATH' })
    .describe('an image folder, tar shards, idx or CIFAR'),
  dataFormat: z.enum(SOURCE_FORMATS as [SourceFormat, ...SourceFormat[]]).optional(),
  inputSize: intOption({ min: 1, max: 4096 }).default(224),
  batch: intOption({ min: 1, max: MAX_BATCH }).default(256),
  numWorkers: intOption({ min: 1, max: 1024 }).optional(),
  batches: intOption({ min: 1, max: 100_000 }).default(10),
  prefetch: intOption({ min: 1, max: 64 }).default(2),
  device: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "must be 'cpu', 'cuda' or 'cuda:N'" })
    .optional()
    .describe('also upload and normalise each batch on this device'),
  torchvision: z.string({ message: 'give a Python with torchvision: --torchvision python3' }).optional(),
  json: z.string({ message: 'give the file to write: --json FILE' }).optional(),
});

const USAGE = `mae-cuda bench-data --data SRC [--data-format F] [--input-size 224] [--batch 256]
    [--num-workers N (default: the cores)] [--batches 10] [--prefetch 2] [--device cpu|cuda[:N]]
    [--torchvision /usr/bin/python3] [--json FILE]`;

export const benchDataCommand = defineCommand({
  name: 'bench-data',
  summary: 'images/s of the input pipeline alone (decode, crop, flip, batch), and torchvision for comparison',
  usage: USAGE,
  options,
  async run(o) {
    const s: DataBenchSettings = {
      data: o.data,
      ...(o.dataFormat ? { format: o.dataFormat } : {}),
      inputSize: o.inputSize,
      batch: o.batch,
      workers: o.numWorkers ?? availableParallelism(),
      batches: o.batches,
      prefetch: o.prefetch,
      ...(o.device ? { device: o.device } : {}),
    };
    let ours: Awaited<ReturnType<typeof benchLoader>>;
    try {
      ours = await benchLoader(s);
    } catch (e) {
      console.error(
        `mae-cuda bench-data: ${e instanceof DataError ? '--data: ' : ''}${(e as Error).message}`,
      );
      return e instanceof DataError ? 2 : 1;
    }
    let tv: TorchvisionResult | undefined;
    if (o.torchvision) {
      try {
        tv = benchTorchvision(o.torchvision, s);
      } catch (e) {
        console.error(`mae-cuda bench-data: --torchvision: ${(e as Error).message}`);
        return 1;
      }
    }
    const lines = [
      `source ${s.data}: ${s.batches} batches of ${s.batch} at ${s.inputSize}x${s.inputSize}, ${s.workers} workers, ${availableParallelism()} cores`,
      `mae-cuda loader${s.device ? ` + upload to ${s.device}${ours.pinned ? ' (pinned)' : ''}` : ''}: ` +
        `${ours.imagesPerSec.toFixed(1)} img/s, ${ours.perCore.toFixed(1)} img/s per core` +
        (ours.badSamples ? ` (${ours.badSamples} bad samples replaced)` : ''),
    ];
    if (tv)
      lines.push(
        `torchvision ${tv.version}: ${tv.imagesPerSec.toFixed(1)} img/s, ${tv.perCore.toFixed(1)} img/s per core`,
        `ratio (mae-cuda / torchvision): ${(ours.imagesPerSec / tv.imagesPerSec).toFixed(2)}x`,
      );
    console.log(lines.join('\n'));
    if (o.json)
      writeFileSync(o.json, `${JSON.stringify({ settings: s, ours, torchvision: tv ?? null }, null, 2)}\n`);
    return 0;
  },
});
