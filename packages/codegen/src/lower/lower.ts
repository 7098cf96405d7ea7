// lower.ts: lowers an op's assignments to kernels, the one form every emitter renders. Each kernel
// is a loop tree (loops, hoisted reductions, scalar lets, stores) plus a classification that picks
// the CUDA schedule: pointwise, rowwise (block per row), outreduce (reduction per output) or
// contraction (a GEMM with the rest of the expression as its fused epilogue).
import { freeVars, type IndexVar, mapNode, type Node, type ReduceOp, walk } from '../ir/expr.js';
import type { OpDef } from '../ir/op.js';
import type { TensorDecl } from '../ir/tensor.js';

export type Stmt =
  | { readonly k: 'loop'; readonly v: IndexVar; readonly body: Stmt[] }
  | {
      readonly k: 'reduce';
      readonly name: string;
      readonly op: ReduceOp;
      readonly vars: readonly IndexVar[];
      body: Node;
    }
  | { readonly k: 'let'; readonly name: string; readonly value: Node }
  | { readonly k: 'store'; readonly t: TensorDecl; readonly idx: readonly Node[]; readonly local: string };

export interface Contraction {
  readonly batch: readonly IndexVar[];
  readonly m: IndexVar;
  readonly n: IndexVar;
  readonly kvars: readonly IndexVar[];
  readonly a: Node; // load of the left operand (depends on batch, m, k)
  readonly b: Node; // load of the right operand (depends on batch, k, n)
  readonly acc: string; // the local the epilogue reads
  readonly epilogue: readonly Stmt[]; // lets and stores after the reduction
}

export type Schedule =
  | { readonly kind: 'pointwise'; readonly vars: readonly IndexVar[]; readonly body: readonly Stmt[] }
  | {
      readonly kind: 'rowwise';
      readonly rows: readonly IndexVar[];
      readonly rowBody: readonly Stmt[]; // reductions, lets and row stores, in order, excluding the inner loop
      readonly inner: Extract<Stmt, { k: 'loop' }>;
      readonly after: readonly Stmt[]; // row-level statements after the inner loop
    }
  | { readonly kind: 'outreduce'; readonly vars: readonly IndexVar[]; readonly body: readonly Stmt[] }
  | ({ readonly kind: 'contraction' } & Contraction)
  | { readonly kind: 'none'; readonly why: string };

export interface Kernel {
  readonly name: string; // e.g. "layernorm_forward_k0"
  readonly root: Extract<Stmt, { k: 'loop' }>;
  readonly schedule: Schedule;
}

const UNIT: IndexVar = { name: '_unit', extent: { k: 'iconst', v: 1 } };

/** Lowers an op to its kernels (one per top-level loop). */
export function lowerOp(op: OpDef): Kernel[] {
  const top: Stmt[] = [];
  let counter = 0;
  const reduceNames = new Map<Node, string>();
  // written[tensor] = { vars, local } for loads of earlier outputs at the same index
  const written = new Map<TensorDecl, { vars: readonly IndexVar[]; local: string; root: Stmt }>();

  for (const a of op.body) {
    const vars = a.idx.map((e) => (e.node as Extract<Node, { k: 'idx' }>).v);
    const path = vars.length ? vars : [UNIT];
    // find or create the loop chain
    let body = top;
    const chain: Extract<Stmt, { k: 'loop' }>[] = [];
    for (const v of path) {
      const last = body[body.length - 1];
      let l: Extract<Stmt, { k: 'loop' }>;
      if (last && last.k === 'loop' && last.v === v) l = last;
      else {
        l = { k: 'loop', v, body: [] };
        body.push(l);
      }
      chain.push(l);
      body = l.body;
    }
    const root = chain[0]!;
    // replace loads of tensors written earlier in the same kernel by their locals
    let value = mapNode(a.value.node, (n) => {
      if (n.k !== 'load') return undefined;
      const w = written.get(n.t);
      if (!w) {
        if (n.t.role === 'out') throw new TypeError(`${op.name}: ${n.t.name} is read before it is written`);
        return undefined;
      }
      const same =
        w.root === root &&
        n.idx.length === w.vars.length &&
        n.idx.every((x, i) => x.k === 'idx' && x.v === w.vars[i]);
      if (!same)
        throw new TypeError(
          `${op.name}: ${n.t.name} is read at another index than it was written in the same kernel; split the op`,
        );
      return { k: 'var', name: w.local };
    });
    // hoist reductions, innermost first, to the shallowest loop binding their free variables
    const hoist = (n: Node): Node =>
      mapNode(n, (m) => {
        if (m.k !== 'reduce') return undefined;
        const known = reduceNames.get(m);
        if (known) return { k: 'var', name: known };
        const inner = hoist(m.body);
        const name = `r${counter++}`;
        reduceNames.set(m, name);
        const fv = freeVars(m);
        let depth = 0; // number of chain loops that must enclose it
        path.forEach((v, i) => {
          if (fv.has(v)) depth = i + 1;
        });
        for (const v of fv)
          if (!path.includes(v))
            throw new TypeError(
              `${op.name}: reduction uses index ${v.name} that ${a.out.name}'s loops don't bind`,
            );
        const target = depth === 0 ? chain[0]!.body : chain[depth - 1]!.body;
        const stmt: Stmt = { k: 'reduce', name, op: m.op, vars: m.vars, body: inner };
        // insert before the statement that leads to this store
        const next = depth < chain.length ? chain[depth] : undefined;
        const at = next ? target.indexOf(next) : target.length;
        target.splice(at < 0 ? target.length : at, 0, stmt);
        return { k: 'var', name };
      });
    value = hoist(value);
    const local = `v_${a.out.name}`;
    const idxNodes: Node[] = path === vars ? vars.map((v) => ({ k: 'idx', v })) : [];
    body.push({ k: 'let', name: local, value }, { k: 'store', t: a.out, idx: idxNodes, local });
    written.set(a.out, { vars, local, root });
  }

  return top.map((s, i) => {
    if (s.k !== 'loop') throw new Error('unreachable');
    return { name: `${op.name}_k${i}`, root: s, schedule: classify(s) };
  });
}

/** Chain of perfectly nested loops from root, and the statements under the last one. */
function perfectNest(root: Extract<Stmt, { k: 'loop' }>) {
  const vars: IndexVar[] = [root.v];
  let body = root.body;
  while (body.length === 1 && body[0]!.k === 'loop') {
    vars.push(body[0]!.v);
    body = body[0]!.body;
  }
  return { vars, body };
}

function classify(root: Extract<Stmt, { k: 'loop' }>): Schedule {
  const { vars, body } = perfectNest(root);
  const loops = body.filter((s) => s.k === 'loop');
  const reduces = body.filter((s) => s.k === 'reduce');
  if (loops.length === 0 && reduces.length === 0) return { kind: 'pointwise', vars, body };
  if (loops.length === 0) {
    const c = contraction(vars, body);
    return c ? { kind: 'contraction', ...c } : { kind: 'outreduce', vars, body };
  }
  if (loops.length === 1) {
    const inner = loops[0] as Extract<Stmt, { k: 'loop' }>;
    if (inner.body.every((s) => s.k === 'let' || s.k === 'store')) {
      const at = body.indexOf(inner);
      return { kind: 'rowwise', rows: vars, rowBody: body.slice(0, at), inner, after: body.slice(at + 1) };
    }
  }
  return { kind: 'none', why: 'loop structure has no CUDA schedule (nested reductions below the row level)' };
}

function usesVar(n: Node, v: IndexVar): boolean {
  let found = false;
  walk(n, (m) => {
    if (m.k === 'idx' && m.v === v) found = true;
  });
  return found;
}

function contraction(vars: readonly IndexVar[], body: readonly Stmt[]): Contraction | undefined {
  if (vars.length < 2) return undefined;
  const reds = body.filter((s) => s.k === 'reduce');
  if (reds.length !== 1 || body[0] !== reds[0]) return undefined;
  const r = reds[0] as Extract<Stmt, { k: 'reduce' }>;
  if (r.op !== 'sum' || r.body.k !== 'bin' || r.body.op !== '*') return undefined;
  const { a, b } = r.body;
  if (a.k !== 'load' || b.k !== 'load') return undefined;
  const m = vars[vars.length - 2]!;
  const n = vars[vars.length - 1]!;
  const ks = r.vars;
  const okA = usesVar(a, m) && !usesVar(a, n) && ks.every((k) => usesVar(a, k));
  const okB = usesVar(b, n) && !usesVar(b, m) && ks.every((k) => usesVar(b, k));
  if (!okA || !okB) return undefined;
  for (const s of body.slice(1)) if (s.k === 'reduce' || s.k === 'loop') return undefined;
  return { batch: vars.slice(0, -2), m, n, kvars: ks, a, b, acc: r.name, epilogue: body.slice(1) };
}

/** Every input and output tensor a kernel touches. */
export function tensorsOf(k: Kernel): Set<TensorDecl> {
  const out = new Set<TensorDecl>();
  const visit = (s: Stmt) => {
    if (s.k === 'loop') s.body.forEach(visit);
    else if (s.k === 'store') out.add(s.t);
    else walk(s.k === 'let' ? s.value : s.body, (n) => n.k === 'load' && out.add(n.t));
  };
  visit(k.root);
  return out;
}
