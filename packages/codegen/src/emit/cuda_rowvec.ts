// cuda_rowvec.ts: the rowwise ops' warp-per-row kernel with 16-byte accesses (`_warpv`, beside
// cuda.ts's `_warp`): where every tensor a row's reductions and elementwise loop read or write along
// the row does so with stride 1 (vector.ts's plan: 8 bf16 or 4 f32 elements a load) and the rest
// does not depend on the row's position, a lane takes V consecutive elements a step, with one
// 16-byte load per tensor (a 768-wide bf16 row: 3 loads a lane per tensor where `_warp` made 24 of 2
// bytes), and stores V results with one 16-byte store. A reduction adds each step's V terms in
// order, steps in order, then across the lanes (mae_warp_sum / max): other sums than `_warp`'s, in
// a fixed order. The launcher takes it where the row, each reduction's range and each such tensor's
// rows are whole vectors and the tensors 16-byte aligned.
import type { DType } from '../ir/dtype.js';
import type { IndexVar, Node } from '../ir/expr.js';
import type { TensorDecl } from '../ir/tensor.js';
import type { Schedule, Stmt } from '../lower/lower.js';
import type { Reduce } from './outreduce.js';
import {
  emitVectorBody,
  type Load,
  preload,
  type VectorEmitCtx,
  vectorPlanOf,
  vectorStores,
  wholeVectors,
} from './vector.js';

type Rowwise = Extract<Schedule, { kind: 'rowwise' }>;

export interface RowVecCtx extends VectorEmitCtx {
  /** an element's address, `&t[offset]` */
  address(t: TensorDecl, idx: readonly Node[]): string;
  dtypeOf(t: TensorDecl): DType;
  /** a row-level statement, the warp's (cuda.ts stmt in warp mode) */
  warp(s: Stmt): void;
  /** a warp-per-row kernel's head, up to its open loop over the rows (`_row`, `_lane`) */
  warpRows(name: string, rows: readonly IndexVar[]): void;
}

export interface RowVecPlan {
  readonly width: number;
  /** tensors read or written along the row (whole vectors a row, 16-byte aligned) */
  readonly tensors: readonly TensorDecl[];
  readonly loads: ReadonlyMap<Stmt, readonly Load[]>;
}

/** The plan of a rowwise kernel, or undefined (the element kernel only). */
export function rowVecPlan(s: Rowwise, dtypeOf: (t: TensorDecl) => DType): RowVecPlan | undefined {
  const byLoad = (l: Load) => dtypeOf(l.t);
  const loads = new Map<Stmt, readonly Load[]>();
  const widths = new Set<number>();
  const tensors = new Set<TensorDecl>();
  const take = (st: Stmt, last: IndexVar, bodies: readonly Node[]) => {
    const p = vectorPlanOf(last, bodies, byLoad);
    if (!p) return false;
    widths.add(p.width);
    for (const l of p.loads) tensors.add(l.t);
    loads.set(st, p.loads);
    return true;
  };
  for (const st of [...s.rowBody, ...s.after])
    if (st.k === 'reduce' && (st.vars.length !== 1 || !take(st, st.vars[0]!, [st.body]))) return undefined;
  const body = s.inner.body;
  if (!body.every((st) => st.k === 'let' || st.k === 'store')) return undefined;
  const n = s.inner.v;
  const values = body.flatMap((st) => (st.k === 'let' ? [st.value] : []));
  if (!take(s.inner, n, values)) return undefined;
  const stores = vectorStores(body, n, dtypeOf);
  if (!stores) return undefined;
  for (const w of stores.widths) widths.add(w);
  for (const t of stores.tensors) tensors.add(t);
  if (widths.size !== 1) return undefined;
  return { width: [...widths][0]!, tensors: [...tensors], loads };
}

/** Emits `${name}` (the kernel's name with `_warpv`); returns the launcher's condition for it. */
export function emitRowVec(g: RowVecCtx, name: string, s: Rowwise, plan: RowVecPlan): string {
  const V = plan.width;
  g.warpRows(name, s.rows);
  g.indent(1);
  g.decompose(s.rows, '_row');
  const row = (st: Stmt) => (st.k === 'reduce' ? reduce(g, st, plan) : g.warp(st));
  s.rowBody.forEach(row);
  inner(g, s.inner, plan);
  s.after.forEach(row);
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  // whole vectors: the row, each reduction's range, each tensor's rows along them; aligned
  const ranges = [...s.rowBody, ...s.after].flatMap((st) => (st.k === 'reduce' ? [st.vars] : []));
  return wholeVectors(
    g,
    [[s.inner.v], ...ranges].map((vars) => g.prod(vars)),
    plan.tensors,
    V,
  );
}

const UNROLL = 2;

/** A row reduction: lane l from element V l by 32 V, UNROLL steps loaded before they are added. */
function reduce(g: RowVecCtx, r: Reduce, plan: RowVecPlan) {
  const V = plan.width;
  const ct = g.ctype;
  const max = r.op === 'max';
  const id = max ? `(${ct})(-INFINITY)` : `(${ct})0`;
  const n = g.prod(r.vars);
  const f = `_f_${r.name}`;
  const add = (v: string) => (max ? `${r.name} = fmax(${r.name}, ${v});` : `${r.name} += ${v};`);
  g.w(`${ct} ${r.name} = ${id};`);
  g.w(`for (int64_t ${f} = (int64_t)_lane * ${V}; ${f} < ${n}; ${f} += ${UNROLL * 32 * V}) {`);
  g.indent(1);
  for (let u = 0; u < UNROLL; u++) {
    const at = u === 0 ? f : `${f} + ${u * 32 * V}`;
    g.w(`${ct} _u${u}_${r.name}[${V}] = {${Array(V).fill(id).join(', ')}};`);
    g.w(u === 0 ? '{' : `if (${at} < ${n}) {`);
    g.indent(1);
    g.decompose(r.vars, at);
    const loads = preload(g, plan.loads.get(r) ?? [], V, `${u}_${r.name}`);
    g.w('#pragma unroll');
    g.w(`for (int _e = 0; _e < ${V}; ++_e) _u${u}_${r.name}[_e] = ${g.value(r.body, loads)};`);
    g.indent(-1);
    g.w('}');
  }
  g.w('#pragma unroll');
  g.w(`for (int _e = 0; _e < ${V}; ++_e) ${add(`_u0_${r.name}[_e]`)}`);
  for (let u = 1; u < UNROLL; u++) {
    g.w(`if (${f} + ${u * 32 * V} < ${n}) {`);
    g.w('#pragma unroll');
    g.w(`for (int _e = 0; _e < ${V}; ++_e) ${add(`_u${u}_${r.name}[_e]`)}`);
    g.w('}');
  }
  g.indent(-1);
  g.w('}');
  g.w(`${r.name} = ${max ? 'mae_warp_max' : 'mae_warp_sum'}(${r.name});`);
}

/** The row's elementwise loop: V elements a lane a step, their stores one 16-byte store a tensor. */
function inner(g: RowVecCtx, loop: Extract<Stmt, { k: 'loop' }>, plan: RowVecPlan) {
  const V = plan.width;
  const v = loop.v.name;
  g.w(`for (int64_t ${v} = (int64_t)_lane * ${V}; ${v} < ${g.prod([loop.v])}; ${v} += ${32 * V}) {`);
  g.indent(1);
  emitVectorBody(g, loop.body, preload(g, plan.loads.get(loop) ?? [], V, ''), V);
  g.indent(-1);
  g.w('}');
}
