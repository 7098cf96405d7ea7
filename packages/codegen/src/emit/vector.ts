// vector.ts: 16-byte loads along the outputs' last axis, for the column reductions split across
// blocks (cuda_colsplit.ts): a lane takes V consecutive outputs when every tensor its reductions
// read along that axis does so with stride 1 (its last index is the axis itself, no other index
// depends on it: V elements are one 16-byte load) and every other read does not depend on the axis
// (one load serves the V outputs). V = 16 bytes over the element size of the tensors read along the
// axis (bf16: 8, f32: 4; one size for all of them); no plan for other types or uses of the axis.
import { type DType, isFloat } from '../ir/dtype.js';
import { type IndexVar, type Node, walk } from '../ir/expr.js';
import type { TensorDecl } from '../ir/tensor.js';
import type { Stmt } from '../lower/lower.js';
import type { Reduce } from './outreduce.js';

type Store = Extract<Stmt, { k: 'store' }>;

export type Load = Extract<Node, { k: 'load' }>;

export interface VectorPlan {
  /** outputs a lane takes (elements per 16-byte load) */
  readonly width: number;
  /** the loads along the axis, in the order the reductions' bodies reach them (repeats included) */
  readonly loads: readonly Load[];
}

/** Element sizes of the types loaded 16 bytes at a time. */
export const BYTES: Partial<Record<DType, number>> = { bf16: 2, f32: 4 };

/** The plan for reductions whose outputs run along `last`, or undefined (one output a lane). */
export const vectorPlan = (last: IndexVar, reds: readonly Reduce[], dtypeOf: (l: Load) => DType) =>
  vectorPlanOf(
    last,
    reds.map((r) => r.body),
    dtypeOf,
  );

/** The same over expressions (rowwise kernels: a reduction's terms, a row's elementwise values). */
export function vectorPlanOf(
  last: IndexVar,
  bodies: readonly Node[],
  dtypeOf: (l: Load) => DType,
): VectorPlan | undefined {
  const isLast = (n: Node) => n.k === 'idx' && n.v.name === last.name;
  const along = (n: Node) => mentions(n, last);
  const loads: Load[] = [];
  let uses = 0;
  let bytes = 0;
  let ok = true;
  for (const body of bodies)
    walk(body, (n) => {
      if (isLast(n)) uses++;
      if (n.k !== 'load' || !n.idx.some(along)) return;
      const size = BYTES[dtypeOf(n)];
      const unit = isLast(n.idx[n.idx.length - 1]!) && !n.idx.slice(0, -1).some(along);
      if (!unit || size === undefined || (bytes !== 0 && size !== bytes)) ok = false;
      else {
        bytes = size;
        loads.push(n);
      }
    });
  // every use of the axis is the last index of a load along it
  if (!ok || loads.length === 0 || uses !== loads.length) return undefined;
  return { width: 16 / bytes, loads };
}

/** Whether an expression uses the axis. */
export function mentions(n: Node, axis: IndexVar): boolean {
  let m = false;
  walk(n, (x) => {
    m ||= x.k === 'idx' && x.v.name === axis.name;
  });
  return m;
}

/**
 * The vector width of a loop body's stores along `axis` (each a float tensor whose last index is
 * the axis, no other index using it: one 16-byte store per V elements) and their tensors, or
 * undefined; a width per element size, which the caller requires to be one.
 */
export function vectorStores(
  body: readonly Stmt[],
  axis: IndexVar,
  dtypeOf: (t: TensorDecl) => DType,
): { readonly widths: readonly number[]; readonly tensors: readonly TensorDecl[] } | undefined {
  const widths: number[] = [];
  const tensors: TensorDecl[] = [];
  for (const st of body) {
    if (st.k !== 'store') continue;
    const last = st.idx[st.idx.length - 1];
    const size = BYTES[dtypeOf(st.t)];
    const other = st.idx.slice(0, -1).some((i) => mentions(i, axis));
    if (
      last?.k !== 'idx' ||
      last.v.name !== axis.name ||
      other ||
      size === undefined ||
      !isFloat(dtypeOf(st.t))
    )
      return undefined;
    widths.push(16 / size);
    tensors.push(st.t);
  }
  return { widths, tensors };
}

/** What preload() writes with: the kernel's lines, an element's address (`&t[offset]`), the compute type. */
export interface PreloadCtx {
  w(s: string): void;
  address(t: TensorDecl, idx: readonly Node[]): string;
  readonly ctype: string;
}

/**
 * Each distinct load along the axis at the current position, 16 bytes into `_v{tag}_{i}[V]` (one
 * load per distinct address); the map renders each load as its element `_e` of that array.
 */
export function preload(g: PreloadCtx, loads: readonly Load[], V: number, tag: string): Map<Load, string> {
  const names = new Map<string, string>();
  const out = new Map<Load, string>();
  for (const l of loads) {
    const at = g.address(l.t, l.idx);
    let v = names.get(at);
    if (v === undefined) {
      v = `_v${tag}_${names.size}`;
      names.set(at, v);
      g.w(`${g.ctype} ${v}[${V}];`);
      g.w(`mae_ld_vec(${v}, ${at});`);
    }
    out.set(l, `${v}[_e]`);
  }
  return out;
}

/**
 * A loop body (lets and stores) on V elements a lane: its lets for each element `_e` (the loads
 * preloaded, `loads`; `head` first, e.g. the element's accumulator), each store's V values into
 * `_s{i}`, then one 16-byte store per stored tensor at the body's position.
 */
export function emitVectorBody(
  g: PreloadCtx & { indent(d: number): void; value(n: Node, loads: ReadonlyMap<Load, string>): string },
  body: readonly Stmt[],
  loads: ReadonlyMap<Load, string>,
  V: number,
  head?: string,
) {
  const stores = body.filter((st): st is Store => st.k === 'store');
  stores.forEach((_, i) => g.w(`${g.ctype} _s${i}[${V}];`));
  g.w('#pragma unroll');
  g.w(`for (int _e = 0; _e < ${V}; ++_e) {`);
  g.indent(1);
  if (head) g.w(head);
  for (const st of body) {
    if (st.k === 'let') g.w(`const ${g.ctype} ${st.name} = ${g.value(st.value, loads)};`);
    else if (st.k === 'store') g.w(`_s${stores.indexOf(st)}[_e] = ${st.local};`);
  }
  g.indent(-1);
  g.w('}');
  stores.forEach((st, i) => g.w(`mae_st_vec(${g.address(st.t, st.idx)}, _s${i});`));
}

/**
 * The launch condition of a 16-byte kernel: each extent a whole number of V-element vectors, and
 * each tensor's rows (its last dimension) too, its pointer 16-byte aligned (a C expression).
 */
export function wholeVectors(
  g: Pick<VectorEmitCtx, 'dim' | 'pointer'>,
  extents: readonly string[],
  tensors: readonly TensorDecl[],
  V: number,
): string {
  const conds = [
    ...extents.map((e) => `${e} % ${V} == 0`),
    ...tensors.flatMap((t) => [
      `(${g.dim(t, t.dims.length - 1)}) % ${V} == 0`,
      `mae_aligned16(${g.pointer(t)})`,
    ]),
  ];
  return [...new Set(conds)].join(' && ');
}

/** What the emitters of 16-byte kernels (cuda_colsplit.ts, cuda_rowvec.ts) ask of cuda.ts. */
export interface VectorEmitCtx {
  w(s: string): void;
  indent(d: number): void;
  prod(vars: readonly IndexVar[]): string;
  /** the index vars from a flat index (innermost last); `used`: those to declare (default all) */
  decompose(vars: readonly IndexVar[], flat: string, used?: (v: IndexVar) => boolean): void;
  /** a value expression; `loads` (a load -> what it renders as) where set */
  value(n: Node, loads?: ReadonlyMap<Load, string>): string;
  /** a tensor's dimension i and its pointer as the launcher names them */
  dim(t: TensorDecl, i: number): string;
  pointer(t: TensorDecl): string;
  readonly args: string;
  readonly ctype: string;
}
