// expr.ts: the expression IR of the DSL (index arithmetic, loads, scalar math, reductions) and the
// `Ex` wrapper that gives it operators. Ops write their reference semantics with these; the
// emitters lower the same trees to C++ and CUDA, and the interpreter evaluates them in f64.
import type { IntrinsicName } from './intrinsics.js';
import type { TensorDecl } from './tensor.js';

export type BinOp = '+' | '-' | '*' | '/' | 'max' | 'min' | '%';
export type UnOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'erf' | 'tanh' | 'abs';
export type CmpOp = '<' | '<=' | '==' | '!=';
export type ReduceOp = 'sum' | 'max';

export interface IndexVar {
  readonly name: string;
  readonly extent: Node;
}

export type Node =
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'iconst'; readonly v: number }
  | { readonly k: 'param'; readonly name: string }
  | { readonly k: 'size'; readonly name: string }
  | { readonly k: 'idx'; readonly v: IndexVar }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'load'; readonly t: TensorDecl; readonly idx: readonly Node[] }
  | { readonly k: 'bin'; readonly op: BinOp; readonly a: Node; readonly b: Node }
  | { readonly k: 'un'; readonly op: UnOp; readonly a: Node }
  | { readonly k: 'cmp'; readonly op: CmpOp; readonly a: Node; readonly b: Node }
  | { readonly k: 'select'; readonly c: Node; readonly a: Node; readonly b: Node }
  | { readonly k: 'call'; readonly fn: IntrinsicName; readonly args: readonly Node[] }
  | { readonly k: 'reduce'; readonly op: ReduceOp; readonly vars: readonly IndexVar[]; readonly body: Node };

export type ExLike = Ex | number;

/** An expression with operators. Integer-ness is decided by context: index positions are int64. */
export class Ex {
  constructor(readonly node: Node) {}
  add(b: ExLike): Ex {
    return bin('+', this, b);
  }
  sub(b: ExLike): Ex {
    return bin('-', this, b);
  }
  mul(b: ExLike): Ex {
    return bin('*', this, b);
  }
  div(b: ExLike): Ex {
    return bin('/', this, b);
  }
  mod(b: ExLike): Ex {
    return bin('%', this, b);
  }
  neg(): Ex {
    return un('neg', this);
  }
  lt(b: ExLike): Ex {
    return new Ex({ k: 'cmp', op: '<', a: this.node, b: lift(b).node });
  }
  le(b: ExLike): Ex {
    return new Ex({ k: 'cmp', op: '<=', a: this.node, b: lift(b).node });
  }
  eq(b: ExLike): Ex {
    return new Ex({ k: 'cmp', op: '==', a: this.node, b: lift(b).node });
  }
}

/** Numbers become float constants; use `int(n)` for integer constants in index arithmetic. */
export const lift = (e: ExLike): Ex => (e instanceof Ex ? e : new Ex({ k: 'const', v: e }));
export const int = (v: number): Ex => new Ex({ k: 'iconst', v });
export const param = (name: string): Ex => new Ex({ k: 'param', name });
export const sizeSym = (name: string): Ex => new Ex({ k: 'size', name });
export const scalarVar = (name: string): Ex => new Ex({ k: 'var', name });

const bin = (op: BinOp, a: ExLike, b: ExLike): Ex =>
  new Ex({ k: 'bin', op, a: lift(a).node, b: lift(b).node });
const un = (op: UnOp, a: ExLike): Ex => new Ex({ k: 'un', op, a: lift(a).node });

export const exp = (a: ExLike) => un('exp', a);
export const log = (a: ExLike) => un('log', a);
export const sqrt = (a: ExLike) => un('sqrt', a);
export const rsqrt = (a: ExLike) => un('rsqrt', a);
export const erf = (a: ExLike) => un('erf', a);
export const tanh = (a: ExLike) => un('tanh', a);
export const abs = (a: ExLike) => un('abs', a);
export const max = (a: ExLike, b: ExLike) => bin('max', a, b);
export const min = (a: ExLike, b: ExLike) => bin('min', a, b);
export const select = (c: Ex, a: ExLike, b: ExLike): Ex =>
  new Ex({ k: 'select', c: c.node, a: lift(a).node, b: lift(b).node });

/** An intrinsic (ir/intrinsics.ts) of integer (u32) arguments, e.g. the Philox noise. */
export const call = (fn: IntrinsicName, ...args: ExLike[]): Ex =>
  new Ex({ k: 'call', fn, args: args.map((a) => lift(a).node) });

/** A loop index running over [0, extent). */
export function loop(name: string, extent: ExLike): Ex {
  const ext = typeof extent === 'number' ? int(extent) : extent;
  return new Ex({ k: 'idx', v: { name, extent: ext.node } });
}

export function indexVarOf(e: Ex): IndexVar {
  if (e.node.k !== 'idx') throw new TypeError(`expected a loop index, got a ${e.node.k} expression`);
  return e.node.v;
}

function reduce(op: ReduceOp, vars: readonly Ex[], body: ExLike): Ex {
  if (vars.length === 0) throw new TypeError(`${op}: a reduction needs at least one index`);
  return new Ex({ k: 'reduce', op, vars: vars.map(indexVarOf), body: lift(body).node });
}
/** Sum of body over every value of the given loop indices. */
export const sum = (vars: readonly Ex[], body: ExLike) => reduce('sum', vars, body);
/** Maximum of body over every value of the given loop indices. */
export const maxOver = (vars: readonly Ex[], body: ExLike) => reduce('max', vars, body);

/**
 * Rebuilds a tree top-down: `f` returns a replacement or undefined to keep the node (with its
 * children mapped). Shared subtrees stay shared (memoised per call) and untouched nodes keep their
 * identity, so a reduction used twice is still one node afterwards.
 */
export function mapNode(root: Node, f: (n: Node) => Node | undefined): Node {
  const memo = new Map<Node, Node>();
  const go = (n: Node): Node => {
    const hit = memo.get(n);
    if (hit) return hit;
    const r = f(n) ?? rebuild(n);
    memo.set(n, r);
    return r;
  };
  const rebuild = (n: Node): Node => {
    switch (n.k) {
      case 'load': {
        const idx = n.idx.map(go);
        return idx.every((x, i) => x === n.idx[i]) ? n : { ...n, idx };
      }
      case 'bin':
      case 'cmp': {
        const [a, b] = [go(n.a), go(n.b)];
        return a === n.a && b === n.b ? n : { ...n, a, b };
      }
      case 'un': {
        const a = go(n.a);
        return a === n.a ? n : { ...n, a };
      }
      case 'select': {
        const [c, a, b] = [go(n.c), go(n.a), go(n.b)];
        return c === n.c && a === n.a && b === n.b ? n : { ...n, c, a, b };
      }
      case 'reduce': {
        const body = go(n.body);
        return body === n.body ? n : { ...n, body };
      }
      case 'call': {
        const args = n.args.map(go);
        return args.every((x, i) => x === n.args[i]) ? n : { ...n, args };
      }
      default:
        return n;
    }
  };
  return go(root);
}

/** Visits every node (pre-order). */
export function walk(n: Node, f: (n: Node) => void): void {
  f(n);
  switch (n.k) {
    case 'load':
      n.idx.forEach((i) => walk(i, f));
      break;
    case 'bin':
    case 'cmp':
      walk(n.a, f);
      walk(n.b, f);
      break;
    case 'un':
      walk(n.a, f);
      break;
    case 'select':
      walk(n.c, f);
      walk(n.a, f);
      walk(n.b, f);
      break;
    case 'reduce':
      walk(n.body, f);
      break;
    case 'call':
      n.args.forEach((a) => walk(a, f));
      break;
    default:
  }
}

/** Index variables an expression depends on, excluding those bound by its own reductions. */
export function freeVars(n: Node): Set<IndexVar> {
  const out = new Set<IndexVar>();
  const go = (m: Node, bound: ReadonlySet<IndexVar>) => {
    if (m.k === 'idx') {
      if (!bound.has(m.v)) out.add(m.v);
      return;
    }
    if (m.k === 'reduce') {
      const b = new Set(bound);
      m.vars.forEach((v) => b.add(v));
      go(m.body, b);
      return;
    }
    const kids: Node[] = [];
    switch (m.k) {
      case 'load':
        kids.push(...m.idx);
        break;
      case 'bin':
      case 'cmp':
        kids.push(m.a, m.b);
        break;
      case 'un':
        kids.push(m.a);
        break;
      case 'select':
        kids.push(m.c, m.a, m.b);
        break;
      case 'call':
        kids.push(...m.args);
        break;
      default:
    }
    kids.forEach((c) => go(c, bound));
  };
  go(n, new Set());
  return out;
}
