// check.ts: the runtime side of the generated op signatures: binds size symbols across the
// tensors of a call and checks ranks, dtypes, devices and constraints, throwing a TypeError that
// names the op, the argument and the shapes before any kernel runs.
import type { Tensor } from './tensor.js';

export interface OpSpec {
  readonly name: string;
  readonly tensors: readonly {
    readonly name: string;
    readonly dims: readonly (string | number)[];
    readonly dtype: string;
  }[];
  readonly params: readonly string[];
  /** per variant, the dtype of each tensor in order */
  readonly variants: readonly (readonly string[])[];
  readonly constraints: readonly {
    readonly size: string;
    readonly min?: number;
    readonly multipleOf?: number;
    readonly equals?: string;
    readonly atMost?: string;
    readonly plus?: number;
  }[];
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const devName = (t: Tensor) => (t.device.type === 'cpu' ? 'cpu' : `cuda:${t.device.index}`);

/** Checks a call and returns the bound sizes. */
export function checkOp(
  spec: OpSpec,
  tensors: readonly Tensor[],
  params: readonly number[],
): Record<string, number> {
  const op = spec.name;
  if (tensors.length !== spec.tensors.length)
    throw new TypeError(`${op}: expected ${spec.tensors.length} tensors, got ${tensors.length}`);
  const sizes: Record<string, number> = {};
  const from: Record<string, string> = {};
  spec.tensors.forEach((d, i) => {
    const t = tensors[i];
    if (t === null || typeof t !== 'object' || !('handle' in t) || !Array.isArray(t.shape))
      throw new TypeError(`${op}: ${d.name} must be a Tensor`);
    if (t.shape.length !== d.dims.length)
      throw new TypeError(
        `${op}: ${d.name} must have rank ${d.dims.length} [${d.dims.join(', ')}], got shape ${fmt(t.shape)}`,
      );
    d.dims.forEach((dim, j) => {
      const v = t.shape[j]!;
      if (typeof dim === 'number') {
        if (v !== dim)
          throw new TypeError(`${op}: ${d.name} dimension ${j} must be ${dim}, got shape ${fmt(t.shape)}`);
      } else if (sizes[dim] === undefined) {
        sizes[dim] = v;
        from[dim] = `${d.name} ${fmt(t.shape)}`;
      } else if (sizes[dim] !== v)
        throw new TypeError(
          `${op}: size ${dim} is ${sizes[dim]} from ${from[dim]} but ${v} from ${d.name} ${fmt(t.shape)}`,
        );
    });
    if (devName(t) !== devName(tensors[0]!))
      throw new TypeError(
        `${op}: ${d.name} is on ${devName(t)} but ${spec.tensors[0]!.name} is on ${devName(tensors[0]!)}`,
      );
  });
  const dtypes = tensors.map((t) => t.dtype as string);
  if (!spec.variants.some((v) => v.every((d, i) => d === dtypes[i]))) {
    const names = spec.tensors.map((t) => t.name).join(', ');
    const ok = spec.variants.map((v) => `(${v.join(', ')})`).join(', ');
    throw new TypeError(`${op}: no kernel for dtypes (${dtypes.join(', ')}) of (${names}); supported: ${ok}`);
  }
  for (const c of spec.constraints) {
    const v = sizes[c.size]!;
    if (c.min !== undefined && v < c.min)
      throw new TypeError(`${op}: size ${c.size} must be at least ${c.min}, got ${v}`);
    if (c.equals !== undefined && v !== sizes[c.equals]! + (c.plus ?? 0))
      throw new TypeError(
        `${op}: size ${c.size} must equal ${c.equals} + ${c.plus ?? 0}, got ${c.size} = ${v} and ${c.equals} = ${sizes[c.equals]}`,
      );
    if (c.atMost !== undefined && v > sizes[c.atMost]! + (c.plus ?? 0))
      throw new TypeError(
        `${op}: size ${c.size} must be at most ${c.atMost} + ${c.plus ?? 0}, got ${c.size} = ${v} and ${c.atMost} = ${sizes[c.atMost]}`,
      );
    if (c.multipleOf !== undefined && v % c.multipleOf !== 0)
      throw new TypeError(`${op}: size ${c.size} must be a multiple of ${c.multipleOf}, got ${v}`);
  }
  spec.params.forEach((p, i) => {
    if (typeof params[i] !== 'number' || Number.isNaN(params[i]))
      throw new TypeError(`${op}: ${p} must be a number, got ${String(params[i])}`);
  });
  return sizes;
}

export interface AxisViews {
  readonly input: Tensor;
  readonly output: Tensor;
  dispose(): void;
}

/** Views x as [A, R, B] and out as [A, B] for a reduction along `axis`. */
export function axisViews(spec: OpSpec, x: Tensor, out: Tensor, axis: number): AxisViews {
  const op = spec.name;
  if (!Number.isInteger(axis)) throw new TypeError(`${op}: axis must be an integer, got ${axis}`);
  const rank = x.shape.length;
  if (rank === 0) throw new TypeError(`${op}: x must have at least one dimension`);
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) throw new TypeError(`${op}: axis ${axis} is out of range for x ${fmt(x.shape)}`);
  const want = x.shape.filter((_, i) => i !== ax);
  const outShape = out.shape;
  if (outShape.length !== want.length || outShape.some((v, i) => v !== want[i]))
    throw new TypeError(
      `${op}: out must have shape ${fmt(want)} (x ${fmt(x.shape)} without axis ${ax}), got ${fmt(outShape)}`,
    );
  const A = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const R = x.shape[ax]!;
  const B = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const input = x.view([A, R, B]);
  const output = out.view([A, B]);
  return {
    input,
    output,
    dispose() {
      input.dispose();
      output.dispose();
    },
  };
}
