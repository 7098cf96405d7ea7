// block.ts: block-wise masking as BEiT samples it (unilm/beit/masking_generator.py, MaskingGenerator,
// with min_num_patches 16 and aspect ratios in [0.3, 1/0.3], the setting the MAE paper's Table 1f
// compares with): rectangles of random area and aspect ratio placed uniformly on the side x side
// patch grid, added until `target` patches are masked. Each block: up to 10 tries of
//   area   = U(minArea, max(minArea, remaining))      remaining = target - masked so far
//   aspect = exp(U(log 0.3, log(1/0.3)))
//   h      = round(sqrt(area * aspect)), w = round(sqrt(area / aspect))   (Python's round)
//   top    = randint(0, side - h), left = randint(0, side - w)           (inclusive, as random.randint)
// kept when it fits and masks at least one new patch. Differences from BEiT, all so that every row
// masks exactly `target` patches (the encoder takes a fixed number): a block may overshoot the
// target (BEiT refuses such a block and may stop short), the overshoot being trimmed afterwards
// from the last block (blockScores); a block may span a whole side (BEiT: strictly less), and on
// grids too small for 16-patch blocks the least area is (side - 1)^2 (at least 1); after 10 failed
// tries the next block is tried again instead of stopping (up to MAX_STALLS times).
// U(a, b) = a + (b - a) * u and randint(0, n - 1) = floor(u * n) on the row's 24-bit uniforms.
import { roundHalfEven } from '../data/augment/crop.js';

/** A block of patches: rows top..top+height-1, columns left..left+width-1. */
export interface PatchBlock {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface BlockMask {
  /** the blocks in the order they were added */
  blocks: PatchBlock[];
  /** [side * side] index of the block that first masked each patch, -1 = not masked */
  owner: Int32Array;
  /** patches masked (>= target unless the sampler stalled) */
  masked: number;
}

/** BEiT's min_num_patches. */
export const BLOCK_MIN_PATCHES = 16;
/** BEiT's min_aspect (max_aspect = 1 / it). */
export const BLOCK_MIN_ASPECT = 0.3;
const TRIES = 10;
const MAX_STALLS = 1000;

/** The least block area on a side x side grid: 16, or (side - 1)^2 on small grids (at least 1). */
export function blockMinArea(side: number): number {
  return Math.min(BLOCK_MIN_PATCHES, Math.max(1, (side - 1) ** 2));
}

function randint(n: number, u: number): number {
  return Math.min(n - 1, Math.floor(u * n));
}

/** Masks the new patches of `b` as block `id`; returns how many were new. */
function place(owner: Int32Array, side: number, b: PatchBlock, id: number): number {
  let fresh = 0;
  for (let y = b.top; y < b.top + b.height; y++)
    for (let x = b.left; x < b.left + b.width; x++)
      if (owner[y * side + x] === -1) {
        owner[y * side + x] = id;
        fresh++;
      }
  return fresh;
}

/** One block added by up to 10 tries; returns the patches it masked (0: every try failed). */
function addBlock(m: BlockMask, side: number, remaining: number, uniform: () => number): number {
  const minArea = blockMinArea(side);
  const logLo = Math.log(BLOCK_MIN_ASPECT);
  const logHi = -logLo;
  for (let t = 0; t < TRIES; t++) {
    const area = minArea + (Math.max(minArea, remaining) - minArea) * uniform();
    const aspect = Math.exp(logLo + (logHi - logLo) * uniform());
    const height = roundHalfEven(Math.sqrt(area * aspect));
    const width = roundHalfEven(Math.sqrt(area / aspect));
    if (height < 1 || width < 1 || height > side || width > side) continue;
    const top = randint(side - height + 1, uniform());
    const left = randint(side - width + 1, uniform());
    const b = { top, left, height, width };
    const fresh = place(m.owner, side, b, m.blocks.length);
    if (fresh > 0) {
      m.blocks.push(b);
      return fresh;
    }
  }
  return 0;
}

/** Blocks on a side x side grid until at least `target` patches are masked (see the header). */
export function sampleBlocks(side: number, target: number, uniform: () => number): BlockMask {
  if (!Number.isInteger(side) || side < 1)
    throw new RangeError(`block masking: side must be a positive integer, got ${side}`);
  if (!Number.isInteger(target) || target < 0 || target > side * side)
    throw new RangeError(`block masking: target must be an integer in [0, ${side * side}], got ${target}`);
  const m: BlockMask = { blocks: [], owner: new Int32Array(side * side).fill(-1), masked: 0 };
  for (let stalls = 0; m.masked < target && stalls < MAX_STALLS; ) {
    const fresh = addBlock(m, side, target - m.masked, uniform);
    if (fresh === 0) stalls++;
    m.masked += fresh;
  }
  return m;
}

/**
 * Per-patch scores whose stable ascending argsort keeps exactly the unmasked patches first: 0 for
 * an unmasked patch, 1 + (blocks - 1 - b) for one masked first by block b. With len_keep =
 * L - target, the kept set is every unmasked patch plus, when the blocks overshot, the first
 * patches (row-major) of the last block: the overshoot is trimmed from the last block. (Should
 * the sampler stall short, the highest-index unmasked patches are masked to make up the count.)
 */
export function blockScores(m: BlockMask): Float32Array {
  const K = m.blocks.length;
  return Float32Array.from(m.owner, (b) => (b < 0 ? 0 : K - b));
}
