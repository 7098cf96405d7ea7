// substitute.ts: which sample stands in for a bad one (`--bad-data skip`): the next indices in
// order, wrapping around, so the choice depends only on the index (the same with any number of
// workers, ranks or resumes). The stand-in keeps the bad sample's random crop and flip.
export const MAX_SUBSTITUTES = 32;

/** The t-th candidate (t >= 1) to replace sample `index` of a source of `length` samples. */
export function substituteFor(index: number, t: number, length: number): number {
  return (index + t) % length;
}
