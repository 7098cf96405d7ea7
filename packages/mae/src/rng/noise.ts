// noise.ts: the masking noise, defined so that the CUDA backend reproduces it bit for bit.
//
// Value i (0 <= i < count) of row (sample) n at training step `step` in stream `stream`:
//   key     = [seed & 0xffffffff, (seed >> 32) & 0xffffffff]        (seed: 64-bit)
//   counter = [floor(i / 4), n, step, stream]                       (all u32)
//   word    = philox4x32_10(counter, key)[i % 4]
//   value   = (word >>> 8) * 2^-24                                   (24-bit uniform in [0, 1))
// Every value is a multiple of 2^-24 below 1, exactly representable in float32, so the float32
// result does not depend on how the product is rounded. Rows are independent (row n never reads
// another row's counters), so any row can be generated alone, on any device.
import { philox4x32 } from './philox.js';
import { seedKey, u32 } from './seed.js';

/** Stream ids in use; streams with different ids never share a Philox counter block. */
export const Streams = {
  /** Masking noise (uniformNoise). */
  maskNoise: 0,
  /** Masking of the fixed preview images in the reconstruction grid. */
  preview: 1,
  /** Per-sample data augmentation (crop, flip): counter [block, index, epoch, augment]. */
  augment: 2,
  /** Fine-tuning: the drop path uniforms, per step (a device NoiseCounter's stream). */
  dropPath: 3,
  /** Fine-tuning: Mixup / CutMix's draws of step s, stream mixupBase + s. */
  mixupBase: 0x2000_0000,
  /** Fine-tuning: the new head's initial weight. */
  finetuneHead: 4,
  /** Fine-tuning: RandAugment's draws of a sample, counter [block, index, epoch, randAugment]. */
  randAugment: 5,
  /** Fine-tuning: random erasing's box draws of a sample (counters as randAugment). */
  erasing: 6,
  /** Fine-tuning: random erasing's normal values of a sample (counters as randAugment). */
  erasingPixels: 7,
  /** Parameter initialisation: stream initBase + k for the k-th parameter in state_dict order. */
  initBase: 0x10000,
  /** The shuffled data order of epoch e: stream dataOrderBase + e. */
  dataOrderBase: 0x4000_0000,
} as const;

const TWO_M24 = 2 ** -24;

/** The 24-bit uniform in [0, 1) that a Philox output word maps to: (word >>> 8) * 2^-24. */
export function u32ToUniform24(word: number): number {
  return (word >>> 8) * TWO_M24;
}

/** `count` noise values of row n at `step` (see the header for the exact mapping). */
export function uniformNoise(
  seed: bigint | number,
  stream: number,
  step: number,
  n: number,
  count: number,
): Float32Array {
  const key = seedKey(seed);
  u32(stream, 'stream');
  u32(step, 'step');
  u32(n, 'row n');
  if (!Number.isInteger(count) || count < 0 || count > 4 * 0x100000000) {
    throw new RangeError(`count must be a non-negative integer below 2^34, got ${count}`);
  }
  const out = new Float32Array(count);
  const words = [0, 0, 0, 0];
  for (let block = 0; 4 * block < count; block++) {
    philox4x32([block, n, step, stream], key, words);
    const end = Math.min(4, count - 4 * block);
    for (let j = 0; j < end; j++) out[4 * block + j] = u32ToUniform24(words[j]);
  }
  return out;
}

/**
 * Row n's noise values one at a time, without end: the k-th call returns value k of
 * uniformNoise(seed, stream, step, n, k + 1) (the same counters, read on), for the samplers that
 * draw a data-dependent number of values (block-wise masking).
 */
export function rowUniforms(seed: bigint | number, stream: number, step: number, n: number): () => number {
  const key = seedKey(seed);
  const counter: [number, number, number, number] = [
    0,
    u32(n, 'row n'),
    u32(step, 'step'),
    u32(stream, 'stream'),
  ];
  const words = [0, 0, 0, 0];
  let used = 4;
  return () => {
    if (used === 4) {
      philox4x32(counter, key, words);
      counter[0] = (counter[0] + 1) >>> 0;
      used = 0;
    }
    return u32ToUniform24(words[used++]!);
  };
}

/** Noise [N, L] for a batch: row n is uniformNoise(seed, stream, step, rowOffset + n, L). */
export function batchNoise(
  seed: bigint | number,
  stream: number,
  step: number,
  N: number,
  L: number,
  rowOffset = 0,
): Float32Array {
  const out = new Float32Array(N * L);
  for (let n = 0; n < N; n++) out.set(uniformNoise(seed, stream, step, rowOffset + n, L), n * L);
  return out;
}
