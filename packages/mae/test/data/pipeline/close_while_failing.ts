// close_while_failing.ts: run by close.test.ts in a process of its own. Round after round, a
// loader under `--bad-data fail` is handed three batches of truncated and whole JPEGs and closed
// as soon as the first batch fails, with its workers still decoding (inside the addon). Prints
// "ok" after `rounds` rounds; a worker terminated mid-call used to abort the process.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { AugmentConfig } from '../../../src/data/augment/index.js';
import { BatchLoader } from '../../../src/data/pipeline/index.js';
import { openSource } from '../../../src/data/sources/index.js';

const AUG: AugmentConfig = {
  inputSize: 32,
  channels: 3,
  scale: [0.2, 1],
  ratio: [3 / 4, 4 / 3],
  flip: true,
  maxPixels: 1e7,
};
const IMAGES = 200;
const BATCH = 64;

const rounds = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'mae-close-'));
mkdirSync(join(dir, 'a'));
const raw = Buffer.alloc(300 * 200 * 3, 99);
const jpg = await sharp(raw, { raw: { width: 300, height: 200, channels: 3 } })
  .jpeg()
  .toBuffer();
for (let i = 0; i < IMAGES; i++)
  writeFileSync(join(dir, 'a', `${i}.jpg`), i % 7 === 3 ? jpg.subarray(0, 600) : jpg);
const source = await openSource(dir);
for (let r = 0; r < rounds; r++) {
  const loader = await BatchLoader.start({
    spec: source.spec,
    augment: AUG,
    seed: r,
    workers: 2,
    batch: BATCH,
    buffers: 3,
    badData: 'fail',
  });
  const batches = [0, 1, 2].map((b) =>
    loader.load(
      0,
      Array.from({ length: BATCH }, (_, i) => (b * BATCH + i + r) % IMAGES),
    ),
  );
  for (const p of batches) p.catch(() => {});
  await batches[0]!.then(
    () => {
      throw new Error('the first batch holds a truncated JPEG and should have failed');
    },
    () => {},
  );
  await loader.close();
}
await source.close();
rmSync(dir, { recursive: true, force: true });
console.log('ok');
