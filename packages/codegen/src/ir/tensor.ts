// tensor.ts: tensor declarations of an op signature. A declaration carries its dtype (a fixed
// dtype or a type variable of the op) and its shape as size symbols, known to the type system:
// `x.at(i, j)` on a rank-3 tensor is a compile error.
import type { DType } from './dtype.js';
import { Ex, type ExLike, int, type Node } from './expr.js';

/** A fixed dtype, a type variable of the op (e.g. 'T'), or the accumulation type of one ('acc:T'). */
export type DTypeRef = DType | `$${string}` | `acc:$${string}`;
export type Dim = string | number;
export type IndexArgs<S extends readonly Dim[]> = { [K in keyof S]: ExLike };

export interface TensorDecl<S extends readonly Dim[] = readonly Dim[]> {
  readonly name: string;
  readonly role: 'in' | 'out';
  readonly dtype: DTypeRef;
  readonly dims: S;
  readonly doc: string;
  /** Reads `t[idx...]`; an index can be any integer expression, including a loaded integer (gather). */
  at(...idx: IndexArgs<S>): Ex;
}

export interface Assign {
  readonly out: TensorDecl;
  readonly idx: readonly Ex[];
  readonly value: Ex;
}

export function tensorDecl<S extends readonly Dim[]>(
  name: string,
  role: 'in' | 'out',
  dtype: DTypeRef,
  dims: S,
  doc = '',
): TensorDecl<S> {
  const decl: TensorDecl<S> = {
    name,
    role,
    dtype,
    dims,
    doc,
    at(...idx: IndexArgs<S>): Ex {
      const args = idx as readonly ExLike[];
      if (args.length !== dims.length)
        throw new TypeError(`${name}.at: ${args.length} indices for a rank-${dims.length} tensor`);
      const nodes: Node[] = args.map((a) => (typeof a === 'number' ? int(a).node : a.node));
      return new Ex({ k: 'load', t: decl, idx: nodes });
    },
  };
  return decl;
}

/** `out[idx...] = value`, where idx are loop indices (one per dimension, in order). */
export function assign<S extends readonly Dim[]>(
  out: TensorDecl<S>,
  idx: IndexArgs<S>,
  value: ExLike,
): Assign {
  if (out.role !== 'out') throw new TypeError(`assign: ${out.name} is an input`);
  const ix = (idx as readonly ExLike[]).map((e) => {
    if (typeof e === 'number' || e.node.k !== 'idx')
      throw new TypeError(`assign to ${out.name}: indices must be loop indices`);
    return e;
  });
  if (ix.length !== out.dims.length)
    throw new TypeError(`assign to ${out.name}: ${ix.length} indices for rank ${out.dims.length}`);
  return { out, idx: ix, value: typeof value === 'number' ? new Ex({ k: 'const', v: value }) : value };
}
