// sampling.ts: which patches a row masks, as per-patch scores: the masking ops (and the host's
// randomMasking) keep the len_keep patches of smallest score, so every strategy feeds the same
// argsort path and yields the same ids_keep / ids_restore / mask layout, with the exact len_keep.
//   random  the Philox noise itself (the official random_masking; bit for bit today's masking)
//   block   BEiT's block-wise sampling from the row's noise values (block.ts)
//   grid    one patch of every 2x2 kept (grid.ts), mask ratio 0.75 only
// Every score of row n at `step` is a function of (seed, stream, step, rowOffset + n) alone, so
// the masks do not depend on the rank count or the backend.
// Why scores computed on the host rather than a generated op: block sampling is a data-dependent
// sequential loop (tries, overlaps, a variable count of draws), which the op DSL (per-element
// expressions and reductions) cannot express; computing the scores on the host from the same
// counter-based noise and uploading them ([N, L] floats a step, beside the images) keeps one
// definition, gives the CPU and the device the same masks by construction (the device runs the
// same masking ops on the same scores), and keeps the captured CUDA step free of host values (the
// scores buffer is written before each replay, as the images are). Random masking stays on the
// device counter (no upload).

import { lenKeepFor } from '../config/model.js';
import { batchNoise, rowUniforms, Streams } from '../rng/noise.js';
import { blockScores, sampleBlocks } from './block.js';
import { GRID_MASK_RATIO, gridScores } from './grid.js';

export const MASK_SAMPLINGS = ['random', 'block', 'grid'] as const;
export type MaskSampling = (typeof MASK_SAMPLINGS)[number];

/** Why `sampling` cannot run at `maskRatio` (a sentence naming the flags), or undefined. */
export function maskSamplingIssue(sampling: MaskSampling, maskRatio: number): string | undefined {
  if (sampling === 'grid' && maskRatio !== GRID_MASK_RATIO)
    return `--mask-sampling grid keeps one patch of every 2x2, a mask ratio of ${GRID_MASK_RATIO}; --mask-ratio is ${maskRatio}`;
  return undefined;
}

export interface ScoreRequest {
  sampling: MaskSampling;
  seed: bigint | number;
  step: number;
  /** rows of the batch */
  N: number;
  /** patches per side of the (square) patch grid */
  side: number;
  maskRatio: number;
  /** the global row of the batch's first row (data parallel: the rank's offset) */
  rowOffset?: number;
  /** the noise stream (default: the masking noise's) */
  stream?: number;
}

/** Scores [N, side^2] of a batch (see the header); their argsort's first len_keep are kept. */
export function maskScores(r: ScoreRequest): Float32Array {
  const { sampling, seed, step, N, side, maskRatio } = r;
  const rowOffset = r.rowOffset ?? 0;
  const stream = r.stream ?? Streams.maskNoise;
  const L = side * side;
  const issue = maskSamplingIssue(sampling, maskRatio);
  if (issue) throw new RangeError(issue);
  if (sampling === 'random') return batchNoise(seed, stream, step, N, L, rowOffset);
  if (sampling === 'grid') return gridScores(batchNoise(seed, stream, step, N, L, rowOffset), N, side);
  const target = L - lenKeepFor(L, maskRatio);
  const out = new Float32Array(N * L);
  for (let n = 0; n < N; n++)
    out.set(blockScores(sampleBlocks(side, target, rowUniforms(seed, stream, step, rowOffset + n))), n * L);
  return out;
}
