// interp.ts: the independent reference: a plain TypeScript evaluation of an op's semantics (its
// assignments, straight from the definition, no lowering, no schedules) in float64. Tests compare
// the generated kernels of both backends against it.
import { freeVars, type IndexVar, type Node } from '../ir/expr.js';
import { INTRINSICS } from '../ir/intrinsics.js';
import type { OpDef } from '../ir/op.js';
import type { TensorDecl } from '../ir/tensor.js';

export interface RefTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

function bindSizes(op: OpDef, inputs: Record<string, RefTensor>, given: Record<string, number>) {
  const sizes: Record<string, number> = { ...given };
  for (const t of op.inputs) {
    const v = inputs[t.name];
    if (!v) throw new TypeError(`${op.name}: missing input ${t.name}`);
    if (v.shape.length !== t.dims.length)
      throw new TypeError(`${op.name}: ${t.name} must have rank ${t.dims.length}`);
    t.dims.forEach((d, i) => {
      if (typeof d === 'number') return;
      if (sizes[d] === undefined) sizes[d] = v.shape[i]!;
      else if (sizes[d] !== v.shape[i]) throw new TypeError(`${op.name}: size ${d} disagrees at ${t.name}`);
    });
  }
  return sizes;
}

/** Evaluates every assignment of `op` in f64; returns the outputs (with their shapes). */
export function evaluateOp(
  op: OpDef,
  inputs: Record<string, RefTensor>,
  params: Record<string, number> = {},
  givenSizes: Record<string, number> = {},
): Record<string, { shape: number[]; data: Float64Array }> {
  const sizes = bindSizes(op, inputs, givenSizes);
  const shapeOf = (t: TensorDecl) =>
    t.dims.map((d) => {
      if (typeof d === 'number') return d;
      const v = sizes[d];
      if (v === undefined) throw new TypeError(`${op.name}: size ${d} of ${t.name} is unknown; pass it`);
      return v;
    });
  const outs: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const t of op.outputs) {
    const shape = shapeOf(t);
    outs[t.name] = { shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
  }
  const storage = (t: TensorDecl) => (t.role === 'out' ? outs[t.name]! : inputs[t.name]!);
  const env = new Map<IndexVar, number>();
  const freeOf = new Map<Node, IndexVar[]>();
  // cleared per assignment: a later assignment may read outputs an earlier one wrote
  let reduceMemo = new Map<Node, Map<string, number>>();

  const offset = (t: TensorDecl, idx: readonly Node[]) => {
    const shape = storage(t).shape;
    let o = 0;
    idx.forEach((n, i) => {
      const v = evalNode(n);
      if (!Number.isInteger(v) || v < 0 || v >= shape[i]!)
        throw new RangeError(
          `${op.name}: index ${v} out of range for ${t.name} dimension ${i} (${shape[i]})`,
        );
      o = o * shape[i]! + v;
    });
    return o;
  };
  const extent = (v: IndexVar) => evalNode(v.extent);

  function evalNode(n: Node): number {
    switch (n.k) {
      case 'const':
      case 'iconst':
        return n.v;
      case 'param': {
        const p = params[n.name];
        if (p === undefined) throw new TypeError(`${op.name}: missing param ${n.name}`);
        return p;
      }
      case 'size':
        return sizes[n.name]!;
      case 'idx':
        return env.get(n.v)!;
      case 'var':
        throw new TypeError(`${op.name}: free scalar variable ${n.name}`);
      case 'load':
        return storage(n.t).data[offset(n.t, n.idx)]!;
      case 'bin': {
        const a = evalNode(n.a);
        const b = evalNode(n.b);
        switch (n.op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          case '*':
            return a * b;
          case '/':
            return a / b;
          case '%':
            return a % b;
          case 'max':
            return Math.max(a, b);
          case 'min':
            return Math.min(a, b);
        }
        break;
      }
      case 'un': {
        const a = evalNode(n.a);
        switch (n.op) {
          case 'neg':
            return -a;
          case 'exp':
            return Math.exp(a);
          case 'log':
            return Math.log(a);
          case 'sqrt':
            return Math.sqrt(a);
          case 'rsqrt':
            return 1 / Math.sqrt(a);
          case 'erf':
            return erf(a);
          case 'tanh':
            return Math.tanh(a);
          case 'abs':
            return Math.abs(a);
        }
        break;
      }
      case 'cmp': {
        const a = evalNode(n.a);
        const b = evalNode(n.b);
        return (n.op === '<' ? a < b : n.op === '<=' ? a <= b : n.op === '==' ? a === b : a !== b) ? 1 : 0;
      }
      case 'select':
        return evalNode(n.c) ? evalNode(n.a) : evalNode(n.b);
      case 'call':
        return INTRINSICS[n.fn].reference(n.args.map((a) => Math.trunc(evalNode(a)) >>> 0));
      case 'reduce': {
        // a reduction depends only on its free indices: evaluate it once per binding of them
        let fv = freeOf.get(n);
        if (!fv) {
          fv = [...freeVars(n)];
          freeOf.set(n, fv);
        }
        const key = fv.map((v) => env.get(v)).join(',');
        let memo = reduceMemo.get(n);
        if (!memo) {
          memo = new Map();
          reduceMemo.set(n, memo);
        }
        const hit = memo.get(key);
        if (hit !== undefined) return hit;
        let acc = n.op === 'sum' ? 0 : Number.NEGATIVE_INFINITY;
        const rec = (d: number) => {
          if (d === n.vars.length) {
            const v = evalNode(n.body);
            acc = n.op === 'sum' ? acc + v : Math.max(acc, v);
            return;
          }
          const iv = n.vars[d]!;
          // an inner reduction may reuse this index variable: restore the enclosing binding
          const outer = env.get(iv);
          for (let i = 0, e = extent(iv); i < e; i++) {
            env.set(iv, i);
            rec(d + 1);
          }
          if (outer === undefined) env.delete(iv);
          else env.set(iv, outer);
        };
        rec(0);
        memo.set(key, acc);
        return acc;
      }
    }
    throw new Error('unreachable');
  }

  for (const a of op.body) {
    reduceMemo = new Map();
    const vars = a.idx.map((e) => (e.node as Extract<Node, { k: 'idx' }>).v);
    const out = outs[a.out.name]!;
    const rec = (d: number, o: number) => {
      if (d === vars.length) {
        out.data[o] = evalNode(a.value.node);
        return;
      }
      const v = vars[d]!;
      const e = out.shape[d]!;
      for (let i = 0; i < e; i++) {
        env.set(v, i);
        rec(d + 1, o * e + i);
      }
      env.delete(v);
    };
    rec(0, 0);
  }
  return outs;
}

/** erf to double precision (W. J. Cody's rational approximations, as in most libm's). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const p = [
      3.1611237438705655, 113.86415415105016, 377.48523768530936, 3209.3775891384694, 0.18577770618460315,
    ];
    const q = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.2368334391704];
    let num = p[4]! * t;
    let den = t;
    for (let i = 0; i < 3; i++) {
      num = (num + p[i]!) * t;
      den = (den + q[i]!) * t;
    }
    return (x * (num + p[3]!)) / (den + q[3]!);
  }
  return x < 0 ? -(1 - erfcPos(ax)) : 1 - erfcPos(ax);
}

function erfcPos(x: number): number {
  if (x >= 27) return 0;
  let r: number;
  if (x <= 4) {
    const c = [
      0.5641884969886701, 8.883149794388375, 66.11919063714163, 298.6351381974001, 881.952221241769,
      1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
    ];
    const d = [
      15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334665,
      4362.619090143247, 3439.3676741437216, 1230.3393548037495,
    ];
    let num = c[8]! * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + c[i]!) * x;
      den = (den + d[i]!) * x;
    }
    r = (num + c[7]!) / (den + d[7]!);
  } else {
    const p = [
      0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275,
      0.0006587491615298367, 0.016315387137302097,
    ];
    const q = [
      2.5685201922898684, 1.8729528499234604, 0.5279051029514289, 0.06051834131244132, 0.0023352049762686918,
    ];
    const z = 1 / (x * x);
    let num = p[5]! * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + p[i]!) * z;
      den = (den + q[i]!) * z;
    }
    r = (z * (num + p[4]!)) / (den + q[4]!);
    r = (0.5641895835477563 - r) / x;
  }
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq) * Math.exp(-del) * r;
}
