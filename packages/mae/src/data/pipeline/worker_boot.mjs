// worker_boot.mjs: the entry of a batch-loader worker thread. From the TypeScript sources (this
// repository, tests) it registers tsx first, as bin/mae-cuda.js does for the main thread (module
// hooks do not carry over to worker threads); from built JavaScript it imports worker.js directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ts = new URL('./worker.ts', import.meta.url);
if (existsSync(fileURLToPath(ts))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(ts.href);
} else {
  await import(new URL('./worker.js', import.meta.url).href);
}
