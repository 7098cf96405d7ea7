// diff.ts: symbolic derivatives of elementwise expressions, so a backward op can be derived from
// its forward expression instead of being written twice (e.g. GELU's backward).
import { Ex, erf, exp, mapNode, type Node, scalarVar, select } from './expr.js';

const C = (v: number): Node => ({ k: 'const', v });
const isC = (n: Node, v: number) => n.k === 'const' && n.v === v;

function mul(a: Node, b: Node): Node {
  if (isC(a, 0) || isC(b, 0)) return C(0);
  if (isC(a, 1)) return b;
  if (isC(b, 1)) return a;
  return { k: 'bin', op: '*', a, b };
}
function add(a: Node, b: Node): Node {
  if (isC(a, 0)) return b;
  if (isC(b, 0)) return a;
  return { k: 'bin', op: '+', a, b };
}
function sub(a: Node, b: Node): Node {
  if (isC(b, 0)) return a;
  return { k: 'bin', op: '-', a, b };
}

/** d(n)/d(var name). Supports the elementwise subset: constants, params, + - * /, max/min, unary math. */
export function d(n: Node, name: string): Node {
  switch (n.k) {
    case 'var':
      return C(n.name === name ? 1 : 0);
    case 'const':
    case 'iconst':
    case 'param':
    case 'size':
    case 'idx':
    case 'load':
      return C(0);
    case 'bin': {
      const da = d(n.a, name);
      const db = d(n.b, name);
      switch (n.op) {
        case '+':
          return add(da, db);
        case '-':
          return sub(da, db);
        case '*':
          return add(mul(da, n.b), mul(n.a, db));
        case '/':
          // (a/b)' = a'/b - a b' / b^2
          return sub(
            { k: 'bin', op: '/', a: da, b: n.b },
            {
              k: 'bin',
              op: '/',
              a: mul(n.a, db),
              b: mul(n.b, n.b),
            },
          );
        case 'max':
        case 'min': {
          const c: Node = { k: 'cmp', op: n.op === 'max' ? '<' : '<=', a: n.b, b: n.a };
          return { k: 'select', c, a: n.op === 'max' ? da : db, b: n.op === 'max' ? db : da };
        }
        default:
          throw new TypeError(`cannot differentiate '${n.op}'`);
      }
    }
    case 'un': {
      const da = d(n.a, name);
      const a = new Ex(n.a);
      let local: Ex;
      switch (n.op) {
        case 'neg':
          return { k: 'un', op: 'neg', a: da };
        case 'exp':
          local = exp(a);
          break;
        case 'log':
          local = new Ex(C(1)).div(a);
          break;
        case 'sqrt':
          local = new Ex(C(0.5)).div(new Ex(n));
          break;
        case 'rsqrt':
          local = new Ex(n).div(a).mul(-0.5);
          break;
        case 'erf':
          // d erf(a) = 2/sqrt(pi) exp(-a^2)
          local = exp(a.mul(a).neg()).mul(2 / Math.sqrt(Math.PI));
          break;
        case 'tanh':
          local = new Ex(C(1)).sub(new Ex(n).mul(new Ex(n)));
          break;
        case 'abs':
          local = select(a.lt(0), -1, 1);
          break;
      }
      return mul(local.node, da);
    }
    case 'select':
      return { k: 'select', c: n.c, a: d(n.a, name), b: d(n.b, name) };
    case 'cmp':
    case 'call': // integer-valued intrinsics (random bits) are piecewise constant
      return C(0);
    case 'reduce':
      throw new TypeError('derivative: reductions are not elementwise');
  }
}

/** The derivative of a one-argument elementwise function, as a function. */
export function derivative(f: (x: Ex) => Ex): (x: Ex) => Ex {
  const body = d(f(scalarVar('__x')).node, '__x');
  return (x: Ex) => new Ex(mapNode(body, (n) => (n.k === 'var' && n.name === '__x' ? x.node : undefined)));
}

/** Partial derivatives of a function of several arguments. */
export function gradient(f: (...xs: Ex[]) => Ex, arity: number): ((...xs: Ex[]) => Ex)[] {
  const names = Array.from({ length: arity }, (_, i) => `__x${i}`);
  const body = f(...names.map(scalarVar)).node;
  return names.map((nm) => {
    const g = d(body, nm);
    return (...xs: Ex[]) =>
      new Ex(
        mapNode(g, (n) => {
          if (n.k !== 'var') return undefined;
          const i = names.indexOf(n.name);
          return i >= 0 ? xs[i]!.node : undefined;
        }),
      );
  });
}

export { erf };
