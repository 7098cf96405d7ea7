// render.ts: the C-family expression renderer shared by the C++ and CUDA emitters. The two
// backends differ only by the overrides at the bottom (storage types, conversions, math names).
import { type DType, isFloat } from '../ir/dtype.js';
import type { Node, UnOp } from '../ir/expr.js';
import { computeDType, type OpDef, resolveDType, type Variant } from '../ir/op.js';
import type { TensorDecl } from '../ir/tensor.js';
import { cDim } from './signature.js';

/** Deterministic C literal for a float constant in the compute type. */
export function floatLit(v: number, ct: 'f32' | 'f64'): string {
  if (v === Number.POSITIVE_INFINITY) return 'INFINITY';
  if (v === Number.NEGATIVE_INFINITY) return '(-INFINITY)';
  if (Number.isNaN(v)) return 'NAN';
  let s = String(v);
  if (!/[.e]/.test(s)) s += '.0';
  return ct === 'f32' ? `${s}f` : s;
}

export abstract class Renderer {
  readonly ct: 'f32' | 'f64';
  /** What a load renders as where an emitter has loaded it already (a vector's element), if set. */
  loadOverride: ((n: Extract<Node, { k: 'load' }>) => string | undefined) | undefined;
  constructor(
    readonly op: OpDef,
    readonly variant: Variant,
  ) {
    this.ct = computeDType(op, variant);
  }

  /** C type of the compute type. */
  get ctype(): string {
    return this.ct === 'f64' ? 'double' : 'float';
  }
  dtypeOf(t: TensorDecl): DType {
    return resolveDType(t.dtype, this.variant);
  }

  /**
   * Row-major offset of t[idx...] with the tensor's symbolic dims. An index read from a tensor (a
   * gather id) is clamped into its dimension: a bad id then reads or writes a wrong element of t,
   * never memory outside it (the ops document their id ranges; the reference rejects bad ids).
   */
  offset(t: TensorDecl, idx: readonly Node[]): string {
    if (idx.length === 0) return '0';
    const at = (i: number) => {
      const e = this.index(idx[i]!);
      return readsTensor(idx[i]!) ? `mae_clamp_index(${e}, ${this.dim(t.dims[i]!)})` : e;
    };
    let s = at(0);
    for (let i = 1; i < idx.length; i++) s = `(${s}) * ${this.dim(t.dims[i]!)} + ${at(i)}`;
    return s;
  }
  dim(d: string | number): string {
    return cDim(d);
  }

  /** An integer (index) expression. */
  index(n: Node): string {
    switch (n.k) {
      case 'iconst':
        return `(int64_t)${n.v}`;
      case 'const':
        if (!Number.isInteger(n.v)) throw new TypeError(`${this.op.name}: non-integer ${n.v} in an index`);
        return `(int64_t)${n.v}`;
      case 'size':
        return n.name;
      case 'idx':
        return n.v.name;
      case 'load': {
        const d = this.dtypeOf(n.t);
        if (isFloat(d)) throw new TypeError(`${this.op.name}: ${n.t.name} (${d}) used as an index`);
        return `(int64_t)${n.t.name}[${this.offset(n.t, n.idx)}]`;
      }
      case 'bin':
        if (n.op === 'max' || n.op === 'min')
          return `${this.imax(n.op)}(${this.index(n.a)}, ${this.index(n.b)})`;
        return `(${this.index(n.a)} ${n.op} ${this.index(n.b)})`;
      case 'select':
        return `(${this.value(n.c)} ? ${this.index(n.a)} : ${this.index(n.b)})`;
      default:
        throw new TypeError(`${this.op.name}: a ${n.k} expression cannot be an index`);
    }
  }

  /** A value expression in the compute type. */
  value(n: Node): string {
    const ct = this.ctype;
    switch (n.k) {
      case 'const':
        return floatLit(n.v, this.ct);
      case 'iconst':
        return floatLit(n.v, this.ct);
      case 'param':
        return this.paramRef(n.name);
      case 'size':
        return `(${ct})${n.name}`;
      case 'idx':
        return `(${ct})${n.v.name}`;
      case 'var':
        return n.name;
      case 'load':
        return (
          this.loadOverride?.(n) ?? this.load(this.dtypeOf(n.t), `${n.t.name}[${this.offset(n.t, n.idx)}]`)
        );
      case 'bin':
        if (n.op === 'max' || n.op === 'min')
          return `${this.fmax(n.op)}(${this.value(n.a)}, ${this.value(n.b)})`;
        if (n.op === '%') return `${this.fn('fmod')}(${this.value(n.a)}, ${this.value(n.b)})`;
        return `(${this.value(n.a)} ${n.op} ${this.value(n.b)})`;
      case 'un':
        return this.unary(n.op, this.value(n.a));
      case 'cmp':
        return `(${this.value(n.a)} ${n.op} ${this.value(n.b)})`;
      case 'select':
        return `(${this.value(n.c)} ? ${this.value(n.a)} : ${this.value(n.b)})`;
      case 'call':
        return `(${ct})mae_${n.fn}(${n.args.map((a) => `(uint32_t)(${this.index(a)})`).join(', ')})`;
      case 'reduce':
        throw new TypeError(`${this.op.name}: reduction left in an expression after lowering`);
    }
  }

  unary(op: UnOp, a: string): string {
    switch (op) {
      case 'neg':
        return `(-${a})`;
      case 'rsqrt':
        return this.rsqrt(a);
      default:
        return `${this.fn(op)}(${a})`;
    }
  }

  /** Store a compute-type value into a tensor element. */
  store(t: TensorDecl, idx: readonly Node[], v: string): string {
    return `${t.name}[${this.offset(t, idx)}] = ${this.convert(this.dtypeOf(t), v)};`;
  }

  /** How kernels refer to a scalar param (already in the compute type). */
  paramRef(name: string): string {
    return name;
  }

  // ---- backend overrides ----
  abstract storage(d: DType): string;
  /** storage element expression -> compute type */
  abstract load(d: DType, elem: string): string;
  /** compute-type value -> storage type */
  abstract convert(d: DType, v: string): string;
  /** name of a math function for the compute type */
  abstract fn(name: string): string;
  abstract rsqrt(a: string): string;
  fmax(op: 'max' | 'min'): string {
    return this.fn(op === 'max' ? 'fmax' : 'fmin');
  }
  imax(op: 'max' | 'min'): string {
    return op === 'max' ? 'std::max<int64_t>' : 'std::min<int64_t>';
  }
}

/** The C++ (CPU) renderer: 16-bit floats are raw bits converted by the runtime's helpers. */
export class CppRenderer extends Renderer {
  override paramRef(name: string): string {
    return `${name}_c`;
  }
  storage(d: DType): string {
    return (
      {
        f32: 'float',
        bf16: 'uint16_t',
        f16: 'uint16_t',
        i32: 'int32_t',
        i64: 'int64_t',
        u8: 'uint8_t',
        f64: 'double',
      } as const
    )[d];
  }
  load(d: DType, e: string): string {
    if (d === 'bf16') return `(${this.ctype})mae_bf16_to_f32(${e})`;
    if (d === 'f16') return `(${this.ctype})mae_f16_to_f32(${e})`;
    return d === this.ct ? e : `(${this.ctype})${e}`;
  }
  /** The storage format type of a float dtype for the hand-written templates (cpu_storage.h). */
  format(d: DType): string {
    if (!isFloat(d)) throw new TypeError(`${this.op.name}: ${d} has no floating storage format`);
    return `mae_cpu_${d}`;
  }
  convert(d: DType, v: string): string {
    if (d === 'bf16') return `mae_f32_to_bf16((float)(${v}))`;
    if (d === 'f16') return `mae_f32_to_f16((float)(${v}))`;
    if (d === 'f32' || d === 'f64') return d === this.ct ? v : `(${this.storage(d)})(${v})`;
    return `(${this.storage(d)})(${v})`;
  }
  fn(name: string): string {
    // exp and erf in f32: the inlined, vectorisable ones (native/src/cpu/cpu_math.h); the rest from <cmath>
    if (this.ct === 'f32' && (name === 'exp' || name === 'erf')) return `mae_${name}f`;
    return `std::${name}`;
  }
  rsqrt(a: string): string {
    return `(${floatLit(1, this.ct)} / std::sqrt(${a}))`;
  }
}

/** The CUDA renderer: native bf16/f16 types and the single-precision math functions. */
export class CudaRenderer extends Renderer {
  storage(d: DType): string {
    return (
      {
        f32: 'float',
        bf16: '__nv_bfloat16',
        f16: '__half',
        i32: 'int32_t',
        i64: 'int64_t',
        u8: 'uint8_t',
        f64: 'double',
      } as const
    )[d];
  }
  load(d: DType, e: string): string {
    if (d === 'bf16') return `__bfloat162float(${e})`;
    if (d === 'f16') return `__half2float(${e})`;
    return d === this.ct ? e : `(${this.ctype})${e}`;
  }
  convert(d: DType, v: string): string {
    if (d === 'bf16') return `__float2bfloat16_rn(${v})`;
    if (d === 'f16') return `__float2half_rn(${v})`;
    return d === this.ct ? v : `(${this.storage(d)})(${v})`;
  }
  fn(name: string): string {
    return this.ct === 'f32' ? `${name}f` : name;
  }
  rsqrt(a: string): string {
    return `${this.fn('rsqrt')}(${a})`;
  }
  override imax(op: 'max' | 'min'): string {
    return op;
  }
}

/** Whether an expression reads a tensor (so its value is data, not a loop bound). */
function readsTensor(n: Node): boolean {
  switch (n.k) {
    case 'load':
      return true;
    case 'bin':
    case 'cmp':
      return readsTensor(n.a) || readsTensor(n.b);
    case 'un':
      return readsTensor(n.a);
    case 'select':
      return readsTensor(n.c) || readsTensor(n.a) || readsTensor(n.b);
    case 'call':
      return n.args.some(readsTensor);
    case 'reduce':
      return readsTensor(n.body);
    default:
      return false;
  }
}
