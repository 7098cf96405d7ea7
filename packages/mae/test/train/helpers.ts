// helpers.ts: tiny runs for the trainer tests: a small model on 16x16 synthetic images (smooth
// random blobs, learnable in a few dozen steps) and a fresh output folder per run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDataset } from '../../src/data/dataset.js';
import { PhiloxStream } from '../../src/rng/stream.js';
import { checkPretrainConfig, type PretrainConfigInput } from '../../src/train/config.js';

/** n images [1, 16, 16] in [0, 1]: a Gaussian blob at a random place with a random width. */
export function blobs(n: number, seed = 7, size = 16): ImageDataset {
  const rng = new PhiloxStream(seed, 99);
  const pixels = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const cx = rng.uniform() * size;
    const cy = rng.uniform() * size;
    const s = 2 + rng.uniform() * 3;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        pixels[(i * size + y) * size + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
  }
  return new ImageDataset({ name: 'blobs', shape: [1, size, size], pixels, mean: [0.2], std: [0.3] });
}

export const outDir = () => mkdtempSync(join(tmpdir(), 'mae-train-'));

/** A tiny architecture: patch 4, 16 wide, 1 block each side. */
export const TINY_ARCH = {
  patch_size: 4,
  embed_dim: 16,
  depth: 1,
  num_heads: 2,
  decoder_embed_dim: 16,
  decoder_depth: 1,
  decoder_num_heads: 2,
} as const;

/** A validated tiny run (16x16, TINY_ARCH) with overrides. */
export function tinyRun(overrides: PretrainConfigInput = {}) {
  const r = checkPretrainConfig({
    model: 'mae_tiny_28',
    input_size: 16,
    ...TINY_ARCH,
    batch_size: 16,
    epochs: 4,
    warmup_epochs: 0,
    lr: 3e-3,
    seed: 3,
    output_dir: outDir(),
    ...overrides,
  });
  if (!r.config) throw new Error(JSON.stringify(r.issues));
  return { config: r.config, model: r.model! };
}
