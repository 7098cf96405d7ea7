// outreduce.ts: what the emitters ask of an outreduce kernel (a reduction per output, lower.ts):
// whether its reductions can be taken apart from the rest of its body (the CUDA column split,
// cuda_colsplit.ts, and the CPU's column form, columns() in cpu.ts), and whether its outputs lie along
// the contiguous axis of what it reads.
import type { IndexVar, Node } from '../ir/expr.js';
import { walk } from '../ir/expr.js';
import type { Stmt } from '../lower/lower.js';

export type Reduce = Extract<Stmt, { k: 'reduce' }>;

/**
 * The reductions of an outreduce body when they share their range and read no local (no other
 * reduction, no let): each can then be computed apart, over any slice of its range, and the rest of
 * the body run after them. Undefined otherwise.
 */
export function splittable(body: readonly Stmt[]): Reduce[] | undefined {
  const reds = body.filter((s): s is Reduce => s.k === 'reduce');
  if (reds.length === 0) return undefined;
  const range = (r: Reduce) => r.vars.map((v) => v.name).join();
  if (reds.some((r) => range(r) !== range(reds[0]!))) return undefined;
  let readsVar = false;
  for (const r of reds)
    walk(r.body, (n: Node) => {
      if (n.k === 'var') readsVar = true;
    });
  return readsVar ? undefined : reds;
}

/** Whether some reduction reads a tensor whose last index is the outputs' last variable (stride 1). */
export function alongOutputs(vars: readonly IndexVar[], reds: readonly Reduce[]): boolean {
  const last = vars[vars.length - 1];
  if (!last) return false;
  let found = false;
  for (const r of reds)
    walk(r.body, (n: Node) => {
      if (n.k !== 'load') return;
      const i = n.idx[n.idx.length - 1];
      if (i?.k === 'idx' && i.v.name === last.name) found = true;
    });
  return found;
}
