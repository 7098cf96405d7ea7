// test_values.ts: how the op test suites (the TypeScript harness and the generated op_check
// program) pick inputs: value ranges that keep each op's math defined, scalar params, and the
// op's size relations applied to a size case.
import type { OpDef } from './op.js';

/** The odd sizes the op suites rotate over an op's size symbols: past tile edges, one, a prime. */
export const ODD_SIZES: readonly number[] = [7, 33, 197, 1, 5];

/** Input ranges by tensor name; a string bound is a size (index tensors point into a dimension). */
export const INPUT_RANGES: Readonly<Record<string, readonly [number, number | string]>> = {
  rstd: [0.5, 2],
  ids: [0, 'L'],
  ids_restore: [0, 'L'],
  ids_shuffle: [0, 'L'],
  mask: [0.25, 1],
  count: [1, 4],
  v: [0, 1],
  loss_rows: [0, 1],
  // Philox key words (any i32 bit pattern) and counters (step, stream, row offset)
  seed: [-2147483648, 2147483647],
  ctr: [0, 1000000],
  // AdamW's [lr, bc1, bc2]: positive (bc2 is under a square root)
  hyper: [0.05, 1],
  // the schedule row counter of adamw_hyper_forward
  step: [0, 'S'],
  // attention's log-sum-exp rows: at least the row's largest score (|score| < ~1.5 here), so the
  // probabilities exp(s - lse) the backward recomputes stay below 1 as a forward makes them (with
  // lse in [-1, 1] they reach e^2.5 and the f32 check measures cancellation, not the kernel)
  lse: [2, 4],
  // image_normalize_forward: every uint8 value, and a standard deviation away from 0
  img: [0, 256],
  std: [0.2, 1],
  // class indices of the cross-entropy, soft targets (a non-negative mass per class), and
  // BatchNorm's running variance (under a square root in eval mode)
  labels: [0, 'K'],
  targets: [0, 1],
  running_var: [0.5, 2],
  // drop path's per-sample uniforms
  u: [0, 1],
};

/** Scalar params by name. */
export const TEST_PARAMS: Readonly<Record<string, number>> = {
  eps: 1e-5,
  alpha: 0.7,
  norm_pix: 1,
  lr: 0.01,
  beta1: 0.9,
  beta2: 0.95,
  weight_decay: 0.05,
  bc1: 0.19,
  bc2: 0.0975,
  keep: 3,
  decay_rows: 3,
  scale: 0.35,
  momentum: 0.9,
  trust_coefficient: 0.02,
  adapt: 1,
  keep_prob: 0.6,
  cls: 0,
  lam: 0.3,
  yl: 1,
  yh: 3,
  xl: 0,
  xh: 2,
  on_value: 0.9,
  off_value: 0.05,
};

/** The range of an input tensor, with a size-valued bound resolved. */
export function inputRange(name: string, sizes: Record<string, number>): [number, number] {
  const [lo, hi] = INPUT_RANGES[name] ?? [-1, 1];
  return [lo, typeof hi === 'string' ? sizes[hi]! : hi];
}

/** Applies the op's size relations (T = J + 1, T <= L + 1, minimums) to a size case. */
export function constrainSizes(op: OpDef, sizes: Record<string, number>): Record<string, number> {
  const s = { ...sizes };
  for (const c of op.constraints) {
    if (c.equals !== undefined) s[c.size] = s[c.equals]! + (c.plus ?? 0);
    if (c.atMost !== undefined) s[c.size] = Math.min(s[c.size]!, s[c.atMost]! + (c.plus ?? 0));
    if (c.min !== undefined && s[c.size]! < c.min) s[c.size] = c.min;
  }
  return s;
}
