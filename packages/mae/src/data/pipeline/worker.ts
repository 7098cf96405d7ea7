// worker.ts: a worker thread of the batch loader. It opens the source from its spec (no scan),
// then for each job reads, decodes and augments its samples one by one into the batch's shared
// buffer. A sample that cannot be read or decoded is replaced by the next good one (substitute.ts)
// under `--bad-data skip`, or fails the job under `fail`. libvips runs one thread per operation
// and caches nothing here: the parallelism is the pool's.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeAugment } from '../augment/index.js';
import { type ImageSource, reopenSource } from '../sources/index.js';
import type { BadSample, Job, WorkerInit, WorkerReply } from './messages.js';
import { MAX_SUBSTITUTES, substituteFor } from './substitute.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const bytesPerImage = init.augment.inputSize * init.augment.inputSize * init.augment.channels;
sharp.concurrency(1);
sharp.cache(false); // every image is new: libvips' operation cache only costs here (about a tenth)

const reply = (r: WorkerReply) => port.postMessage(r);

async function decodeInto(source: ImageSource, job: Job, k: number, bad: BadSample[]): Promise<void> {
  const index = job.indices[k]!;
  const slot = new Uint8Array(job.buffer, job.offset + k * bytesPerImage, bytesPerImage);
  let first: BadSample | undefined;
  for (let t = 0; t <= MAX_SUBSTITUTES; t++) {
    const from = t === 0 ? index : substituteFor(index, t, source.length);
    let name = `sample ${from}`;
    try {
      const sample = await source.read(from);
      name = sample.name;
      await decodeAugment(sample, init.augment, init.seed, job.epoch, index, slot);
      if (first) bad.push({ ...first, replacement: from });
      return;
    } catch (e) {
      const reason = (e as Error).message;
      if (init.badData === 'fail') throw e;
      first ??= { index, name, reason, replacement: -1 };
    }
  }
  throw new Error(
    `${first!.name}: ${first!.reason} (and the next ${MAX_SUBSTITUTES} samples could not stand in)`,
  );
}

async function run(source: ImageSource, job: Job): Promise<void> {
  const bad: BadSample[] = [];
  const t0 = performance.now();
  try {
    for (let k = 0; k < job.indices.length; k++) await decodeInto(source, job, k, bad);
    reply({ type: 'done', id: job.id, bad, images: job.indices.length, busyMs: performance.now() - t0 });
  } catch (e) {
    reply({ type: 'failed', id: job.id, message: (e as Error).message });
  }
}

// one sample at a time per worker: its bytes can live in a buffer reused from sample to sample
const source = await reopenSource(init.spec, { transient: true });
let queue = Promise.resolve();
port.on('message', (job: Job) => {
  queue = queue.then(() => run(source, job));
});
reply({ type: 'ready' });
