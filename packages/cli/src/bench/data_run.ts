// bench/data_run.ts: the loader alone (`mae-cuda bench-data`): batches of an image source decoded,
// cropped, flipped and batched by the worker pool, as pretrain reads them, timed after one warm-up
// batch (with `device`, each batch also uploaded as uint8 and normalised there by the generated
// op, as the training step does, from page-locked buffers on CUDA); and the same pipeline in torchvision (bench/pytorch/data_bench.py: ImageFolder and the
// official transform in a DataLoader with the same number of workers), run by a given Python.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { epochOrder, type LoadedBatch, StreamedImages } from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { childFailure, commandLine } from './torch.js';

export interface DataBenchSettings {
  data: string;
  format?: 'folder' | 'tar' | 'idx' | 'cifar';
  inputSize: number;
  batch: number;
  workers: number;
  batches: number;
  prefetch: number;
  /** upload and normalise each batch on this device (cpu, cuda, cuda:N); none: the loader alone */
  device?: string;
}

export interface DataBenchResult {
  images: number;
  seconds: number;
  imagesPerSec: number;
  /** images/s per worker thread (each a core when there are cores enough) */
  perCore: number;
  workers: number;
  badSamples: number;
  /** the batch buffers were page-locked for the uploads (CUDA) */
  pinned: boolean;
}

/** The loader's images/s over `batches` batches after a warm-up one. */
export async function benchLoader(s: DataBenchSettings): Promise<DataBenchResult> {
  const images = await StreamedImages.open({
    path: s.data,
    ...(s.format ? { format: s.format } : {}),
    inputSize: s.inputSize,
    channels: 3,
    seed: 0,
    batch: s.batch,
    workers: s.workers,
    prefetch: s.prefetch,
    badData: 'skip',
    pinMemory: s.device?.startsWith('cuda') ?? false,
  });
  try {
    const order = epochOrder(0, 0, images.length);
    const batches = Array.from({ length: s.batches + 1 }, (_, k) =>
      Array.from({ length: s.batch }, (_, j) => order[(k * s.batch + j) % order.length]!),
    );
    const upload = (b: LoadedBatch) => {
      if (s.device) images.toDevice(b.pixels, b.count, s.device as DeviceSpec).dispose(); // waits for the device
    };
    const feed = images.feed(0, batches);
    const first = await feed.take(); // warm-up: workers started, caches filled, device ready
    upload(first);
    first.release();
    const t0 = performance.now();
    let count = 0;
    let bad = 0;
    for (let k = 0; k < s.batches; k++) {
      const b = await feed.take();
      upload(b);
      count += b.count;
      bad += b.bad.length;
      b.release();
    }
    const seconds = (performance.now() - t0) / 1000;
    const rate = count / seconds;
    return {
      images: count,
      seconds,
      imagesPerSec: rate,
      perCore: rate / Math.min(s.workers, availableParallelism()),
      workers: s.workers,
      badSamples: bad,
      pinned: images.pinned,
    };
  } finally {
    await images.close();
  }
}

export const DATA_BENCH_SCRIPT = fileURLToPath(
  new URL('../../../../bench/pytorch/data_bench.py', import.meta.url),
);

export interface TorchvisionResult {
  imagesPerSec: number;
  perCore: number;
  version: string;
}

/** torchvision's images/s for the same settings; throws naming the command when it fails. */
export function benchTorchvision(python: string, s: DataBenchSettings): TorchvisionResult {
  const args = [
    DATA_BENCH_SCRIPT,
    ...['--data', s.data, '--input-size', String(s.inputSize), '--batch', String(s.batch)],
    ...['--workers', String(s.workers), '--batches', String(s.batches)],
  ];
  const run = commandLine(python, args);
  const p = spawnSync(python, args, { encoding: 'utf8', timeout: 3_600_000 });
  const failure = childFailure(p, python);
  if (failure) throw new Error(`the torchvision run (${run}) failed: ${failure}`);
  const line = (p.stdout ?? '').trim().split('\n').at(-1) ?? '';
  let json: { images_per_s?: unknown; torchvision?: unknown };
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(
      `the torchvision run (${run}) printed no JSON line: ${JSON.stringify(line.slice(0, 80))}`,
    );
  }
  if (typeof json.images_per_s !== 'number')
    throw new Error(`the torchvision run (${run}) printed JSON without images_per_s`);
  const cores = Math.min(Math.max(s.workers, 1), availableParallelism());
  return {
    imagesPerSec: json.images_per_s,
    perCore: json.images_per_s / cores,
    version: String(json.torchvision),
  };
}
