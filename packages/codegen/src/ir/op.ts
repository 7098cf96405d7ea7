// op.ts: an op = typed signature (outputs, inputs, scalar params, size symbols with constraints)
// + reference semantics (assignments of index expressions) + CUDA schedule hints. Built with
// `op(name)...define(...)`; the builder's generics keep every tensor's rank in the type system.
import { z } from 'zod';
import { accOf, type DType, DTypeSchema } from './dtype.js';
import { Ex, param as paramEx, sizeSym } from './expr.js';
import { type Assign, type Dim, type DTypeRef, type TensorDecl, tensorDecl } from './tensor.js';

export type Variant = Readonly<Record<string, DType>>;

export interface SizeConstraint {
  readonly size: string;
  readonly min?: number;
  readonly multipleOf?: number;
  /** size == equals + plus (e.g. T = J + 1 for a sequence with a cls token prepended) */
  readonly equals?: string;
  /** size <= atMost + plus (e.g. a prefix of another sequence) */
  readonly atMost?: string;
  readonly plus?: number;
}

export interface ParamDecl {
  readonly name: string;
  readonly doc: string;
}

/** Hints for the CUDA schedules (the lowering picks the schedule; these tune it). */
export const CudaHintsSchema = z.object({
  /** threads per block for row-wise and pointwise kernels */
  threads: z.number().int().min(32).max(1024).multipleOf(32).optional(),
});
export type CudaHints = z.infer<typeof CudaHintsSchema>;

/**
 * A hand-written schedule per backend, for an op whose structure the generic lowering cannot
 * schedule well (attention). The names pick emitters in emit/templates.ts; the op's definition
 * stays the semantics (the reference interpreter evaluates it) and its signature still gives the C
 * ABI, Node-API and TypeScript layers. `cudaTolerance`: the relative error the CUDA schedule may
 * show against the CPU and the reference (e.g. bf16 tensor cores on f32 tensors).
 */
export interface ScheduleTemplate {
  readonly cpu: string;
  readonly cuda: string;
  readonly cudaTolerance?: number;
}

/** How a reduction op's TS wrapper maps (x, axis) onto the [A, R, B] view the kernel sees. */
export interface AxisView {
  readonly input: string;
  readonly output: string;
  readonly dims: readonly [string, string, string];
}

export interface OpDef {
  readonly name: string;
  readonly doc: string;
  readonly variants: readonly Variant[];
  readonly outputs: readonly TensorDecl[];
  readonly inputs: readonly TensorDecl[];
  readonly params: readonly ParamDecl[];
  readonly sizes: readonly string[];
  readonly constraints: readonly SizeConstraint[];
  readonly body: readonly Assign[];
  readonly cuda: CudaHints;
  readonly axisView?: AxisView;
  readonly template?: ScheduleTemplate;
  /**
   * (output, input) pairs that may be one buffer (the op runs in place: each element is read before
   * the same thread writes it). Their CUDA pointers are not __restrict__; any other overlap between
   * an output and another tensor is refused by the C ABI.
   */
  readonly inPlace: readonly (readonly [string, string])[];
}

export const OpNameSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, 'op names are snake_case');

/** Resolves a tensor's dtype reference under a variant. */
export function resolveDType(ref: DTypeRef, v: Variant): DType {
  if (ref.startsWith('acc:$')) return accOf(resolveDType(ref.slice(4) as DTypeRef, v));
  if (ref.startsWith('$')) {
    const d = v[ref.slice(1)];
    if (!d) throw new TypeError(`type variable ${ref} has no value in variant ${JSON.stringify(v)}`);
    return d;
  }
  return DTypeSchema.parse(ref);
}

/** The variant's suffix in kernel names: values of its type variables joined, e.g. "f32" or "f32_bf16". */
export const variantSuffix = (v: Variant): string => Object.values(v).join('_') || 'any';

/** The type computations run in: f64 when any float tensor is f64, else f32. */
export function computeDType(op: OpDef, v: Variant): 'f32' | 'f64' {
  const all = [...op.outputs, ...op.inputs].map((t) => resolveDType(t.dtype, v));
  return all.includes('f64') ? 'f64' : 'f32';
}

type Tensors = Record<string, TensorDecl>;
type DimsOf<T extends Tensors> = T[keyof T]['dims'][number];
type SizeNames<T extends Tensors> = Extract<DimsOf<T>, string>;

export class OpBuilder<T extends Tensors = Record<never, never>, P extends string = never> {
  private readonly outs: TensorDecl[] = [];
  private readonly ins: TensorDecl[] = [];
  private readonly pars: ParamDecl[] = [];
  private readonly cons: SizeConstraint[] = [];
  private readonly alias: [string, string][] = [];
  private vars: Record<string, readonly DType[]> = {};
  private explicit?: Variant[];
  private hints: CudaHints = {};
  private view?: AxisView;
  private tmpl?: ScheduleTemplate;

  constructor(
    private readonly name: string,
    private readonly doc: string,
  ) {
    OpNameSchema.parse(name);
  }

  /** A type variable `$name` ranging over dtypes; variants are the product of all variables. */
  typeVar(name: string, options: readonly DType[]): this {
    this.vars[name] = options;
    return this;
  }
  /** Explicit variants instead of the product (e.g. the pairs a cast supports). */
  variants(vs: Variant[]): this {
    this.explicit = vs;
    return this;
  }
  output<N extends string, const S extends readonly Dim[]>(
    name: N,
    dtype: DTypeRef,
    dims: S,
    doc = '',
  ): OpBuilder<T & Record<N, TensorDecl<S>>, P> {
    this.outs.push(tensorDecl(name, 'out', dtype, dims, doc));
    return this as unknown as OpBuilder<T & Record<N, TensorDecl<S>>, P>;
  }
  input<N extends string, const S extends readonly Dim[]>(
    name: N,
    dtype: DTypeRef,
    dims: S,
    doc = '',
  ): OpBuilder<T & Record<N, TensorDecl<S>>, P> {
    this.ins.push(tensorDecl(name, 'in', dtype, dims, doc));
    return this as unknown as OpBuilder<T & Record<N, TensorDecl<S>>, P>;
  }
  param<N extends string>(name: N, doc = ''): OpBuilder<T, P | N> {
    this.pars.push({ name, doc });
    return this as unknown as OpBuilder<T, P | N>;
  }
  constrain(c: SizeConstraint): this {
    this.cons.push(c);
    return this;
  }
  cudaHints(h: CudaHints): this {
    this.hints = CudaHintsSchema.parse(h);
    return this;
  }
  axisView(v: AxisView): this {
    this.view = v;
    return this;
  }
  /** Hand-written schedules instead of the generic lowering (see ScheduleTemplate). */
  template(t: ScheduleTemplate): this {
    this.tmpl = t;
    return this;
  }
  /** Declares that `output` may be the same buffer as `input` (see OpDef.inPlace). */
  inPlace(output: string, input: string): this {
    this.alias.push([output, input]);
    return this;
  }

  define(body: (t: T, sizes: Record<SizeNames<T>, Ex>, params: Record<P, Ex>) => Assign[] | Assign): OpDef {
    const all = [...this.outs, ...this.ins];
    const sizes: string[] = [];
    for (const t of all)
      for (const d of t.dims) if (typeof d === 'string' && !sizes.includes(d)) sizes.push(d);
    const tensors = Object.fromEntries(all.map((t) => [t.name, t])) as unknown as T;
    const sizeEx = Object.fromEntries(sizes.map((s) => [s, sizeSym(s)])) as Record<SizeNames<T>, Ex>;
    const parEx = Object.fromEntries(this.pars.map((p) => [p.name, paramEx(p.name)])) as Record<P, Ex>;
    const b = body(tensors, sizeEx, parEx);
    const assigns = Array.isArray(b) ? b : [b];
    const written = new Set(assigns.map((a) => a.out.name));
    for (const o of this.outs)
      if (!written.has(o.name)) throw new TypeError(`${this.name}: output ${o.name} is never assigned`);
    for (const c of this.cons)
      for (const s of [c.size, c.equals ?? c.size, c.atMost ?? c.size])
        if (!sizes.includes(s)) throw new TypeError(`${this.name}: constraint on unknown size ${s}`);
    for (const [o, i] of this.alias) {
      const out = this.outs.find((t) => t.name === o);
      const inp = this.ins.find((t) => t.name === i);
      if (!out || !inp)
        throw new TypeError(`${this.name}: inPlace(${o}, ${i}) names no such output and input`);
      if (out.dtype !== inp.dtype || JSON.stringify(out.dims) !== JSON.stringify(inp.dims))
        throw new TypeError(`${this.name}: inPlace(${o}, ${i}) needs the same dtype and shape`);
    }
    const variants = this.explicit ?? product(this.vars);
    return {
      name: this.name,
      doc: this.doc,
      variants,
      outputs: this.outs,
      inputs: this.ins,
      params: this.pars,
      sizes,
      constraints: this.cons,
      body: assigns,
      cuda: this.hints,
      ...(this.view ? { axisView: this.view } : {}),
      ...(this.tmpl ? { template: this.tmpl } : {}),
      inPlace: this.alias,
    };
  }
}

function product(vars: Record<string, readonly DType[]>): Variant[] {
  let out: Record<string, DType>[] = [{}];
  for (const [k, opts] of Object.entries(vars)) out = out.flatMap((v) => opts.map((d) => ({ ...v, [k]: d })));
  return out;
}

export const op = (name: string, doc: string) => new OpBuilder(name, doc);
export { Ex };
