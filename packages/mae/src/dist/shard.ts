// shard.ts: which images a rank reads. Every rank draws the same epoch order; at step s the world
// reads the global batch order[s * B * W, (s + 1) * B * W) (B per rank, W ranks, one micro-batch)
// and rank r takes the r-th block of B. So W ranks with batch B see, step by step, exactly the
// images one rank with batch B * W sees, and no image twice in an epoch; the masking noise of a
// rank's row n is the global row r * B + n, so the masks agree as well.

/** The positions in the epoch order of rank `rank`'s images at (micro-)step `it`. */
export function shardRange(it: number, batch: number, rank: number, world: number): [number, number] {
  if (!(rank >= 0 && rank < world)) throw new RangeError(`rank ${rank} is not in [0, ${world})`);
  const start = (it * world + rank) * batch;
  return [start, start + batch];
}

/** The noise row offset of a rank's first image in the global batch. */
export function shardRowOffset(batch: number, rank: number): number {
  return rank * batch;
}
