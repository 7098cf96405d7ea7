// grid.ts: grid-wise masking (the MAE paper's Figure 6 and Table 1f): one patch of every 2x2 kept,
// the top-left one (row and column both even), so 75% of the patches are masked. On a grid with an
// odd side the pattern has ceil(side/2)^2 patches, more than the len_keep = int(L / 4) the encoder
// takes: the kept ones are the len_keep grid patches with the smallest noise (the row's masking
// noise), so the count is exact and the rest of the pattern is random.

/** The one mask ratio grid-wise sampling has: one patch of every 2x2 kept. */
export const GRID_MASK_RATIO = 0.75;

/** Whether patch l of a side x side grid is on the kept pattern (row and column even). */
export function onGrid(l: number, side: number): boolean {
  return Math.floor(l / side) % 2 === 0 && (l % side) % 2 === 0;
}

/**
 * Per-patch scores [N, side^2] whose stable ascending argsort puts the pattern's patches first:
 * the noise value (in [0, 1)) on the pattern, 1 off it.
 */
export function gridScores(noise: Float32Array, N: number, side: number): Float32Array {
  const L = side * side;
  if (noise.length !== N * L)
    throw new RangeError(`grid masking: ${noise.length} noise values, expected ${N}x${L}`);
  return Float32Array.from(noise, (u, i) => (onGrid(i % L, side) ? u : 1));
}
