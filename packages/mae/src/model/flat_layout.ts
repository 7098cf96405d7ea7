// flat_layout.ts: where each parameter lives in the ParamStore's one flat buffer (and the gradient
// and AdamW moment buffers laid out alike). The AdamW groups are contiguous: trainable with weight
// decay first, then trainable without, then the frozen ones (pos_embed, decoder_pos_embed); each
// segment starts at a multiple of FLAT_ROW elements (zero padding between), so AdamW sees the
// trainable part as [rows, FLAT_ROW] and splits decay from no-decay by whole rows.
import { type ParamGroups, paramGroups } from '../init/param_groups.js';

/** Elements per row of the flat buffers; every segment starts at a multiple of it. */
export const FLAT_ROW = 256;
/** Rows are compared in f32 by the AdamW kernel: exact below 2^24. */
export const MAX_FLAT_ROWS = 2 ** 24;

export interface FlatSegment {
  /** first element */
  readonly start: number;
  /** one past the last element of the last parameter (the padding after it is not included) */
  readonly end: number;
  /** the parameters in it, in state order */
  readonly names: readonly string[];
}

export interface FlatLayout {
  /** parameter name -> first element of the parameter in the flat buffer */
  readonly offsets: ReadonlyMap<string, number>;
  readonly decay: FlatSegment;
  readonly noDecay: FlatSegment;
  readonly frozen: FlatSegment;
  /** rows [0, decayRows) of the trainable part get weight decay (decayRows * FLAT_ROW = noDecay.start) */
  readonly decayRows: number;
  /** the trainable part is [0, trainableRows * FLAT_ROW) = [0, frozen.start) */
  readonly trainableRows: number;
  /** elements of the flat buffer (frozen.end) */
  readonly total: number;
}

const roundUp = (n: number) => Math.ceil(n / FLAT_ROW) * FLAT_ROW;

/**
 * The layout of named parameters: the official pretraining groups by default (state order kept
 * within each segment), or the given ones (fine-tuning's, their order kept).
 */
export function flatLayout(
  params: Iterable<readonly [string, { readonly shape: readonly number[] }]>,
  given?: ParamGroups,
): FlatLayout {
  const entries = [...params];
  const sizes = new Map(entries.map(([n, t]) => [n, t.shape.reduce((a, b) => a * b, 1)]));
  if (sizes.size !== entries.length) throw new Error('flatLayout: a parameter name appears twice');
  const groups = given ?? paramGroups(entries);
  const placed = groups.decay.length + groups.noDecay.length + groups.frozen.length;
  if (placed !== entries.length || groups.trainable.length + groups.frozen.length !== entries.length)
    throw new Error(`flatLayout: the groups place ${placed} of ${entries.length} parameters`);
  const offsets = new Map<string, number>();
  let at = 0;
  const segment = (names: readonly string[]): FlatSegment => {
    const start = roundUp(at);
    at = start;
    for (const n of names) {
      offsets.set(n, at);
      at += sizes.get(n)!;
    }
    return { start, end: at, names };
  };
  const decay = segment(groups.decay);
  const noDecay = segment(groups.noDecay);
  const frozen = segment(groups.frozen);
  const trainableRows = frozen.start / FLAT_ROW;
  if (trainableRows > MAX_FLAT_ROWS)
    throw new RangeError(
      `flatLayout: ${frozen.start} trainable elements make ${trainableRows} rows of ${FLAT_ROW}; ` +
        `AdamW handles at most ${MAX_FLAT_ROWS} rows (${MAX_FLAT_ROWS * FLAT_ROW} elements)`,
    );
  return {
    offsets,
    decay,
    noDecay,
    frozen,
    decayRows: noDecay.start / FLAT_ROW,
    trainableRows,
    total: frozen.end,
  };
}
