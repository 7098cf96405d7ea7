// resample_worker.mjs: a worker thread for resample.test.ts: registers tsx (module hooks do not carry
// over to worker threads), loads resizeBicubic (the native addon) and resizes workerData's image.
import { parentPort, workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
const { resizeBicubic } = await import(
  new URL('../../../src/data/augment/resample.ts', import.meta.url).href
);
const { src, w, h, ch, outW, outH } = workerData;
parentPort.postMessage(resizeBicubic(src, w, h, ch, outW, outH));
