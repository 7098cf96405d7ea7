// harness.ts: runs a generated op on a backend against the reference interpreter (f64) on fresh
// random inputs, with outputs poisoned first and per-dtype tolerances atol + rtol * |ref|.
import {
  constrainSizes,
  type DType,
  evaluateOp,
  inputRange,
  ODD_SIZES,
  type OpDef,
  resolveDType,
  TEST_PARAMS,
  type Variant,
} from '@mae-cuda/codegen';
import * as ops from '../../generated/ops.js';
import type { DeviceSpec } from '../../src/device.js';
import { Tensor } from '../../src/tensor.js';

export const TOL: Record<string, { atol: number; rtol: number }> = {
  f64: { atol: 1e-10, rtol: 1e-9 },
  f32: { atol: 2e-5, rtol: 1e-4 },
  bf16: { atol: 2e-2, rtol: 1.6e-2 },
  f16: { atol: 2e-3, rtol: 2e-3 },
  // integers must be exact: any difference is at least 1 = 2 x atol
  i64: { atol: 0.5, rtol: 0 },
  i32: { atol: 0.5, rtol: 0 },
};

/** A seeded generator, so a failure can be replayed from the printed seed. */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const INT_DTYPES = new Set(['i32', 'i64', 'u8']);

export interface RunResult {
  worst: number; // max over outputs of max |got - ref| / (atol + rtol |ref|); <= 1 passes
  where: string;
}

/** Keeps a case's element count near `cap` (rank-6 ops would otherwise explode), sizes staying odd. */
function shrink(c: Record<string, number>, cap: number): Record<string, number> {
  const s = { ...c };
  const total = () => Object.values(s).reduce((a, b) => a * b, 1);
  while (total() > cap) {
    const [k, v] = Object.entries(s).reduce((a, b) => (b[1] > a[1] ? b : a));
    s[k] = Math.max(1, Math.floor(v / 3) | 1);
  }
  return s;
}

/** Sizes to try: all ones, then odd sizes rotated across the op's size symbols. */
export function sizeCases(op: OpDef): Record<string, number>[] {
  const odd = ODD_SIZES;
  const cases = [Object.fromEntries(op.sizes.map((s) => [s, 1]))];
  for (let r = 0; r < 4; r++)
    cases.push(Object.fromEntries(op.sizes.map((s, j) => [s, odd[(r + j) % odd.length]!])));
  // the templated (attention) ops' reference costs T^2 per element: smaller cases keep it quick
  // (their own suite, flash.test.ts, runs the long sequences)
  return cases.map((c) => constrainSizes(op, shrink(c, op.template ? 1e4 : 2e5)));
}

/** A case past the tile sizes (130 per size, shrinking the leading sizes to keep the reference quick). */
export function bigCase(op: OpDef): Record<string, number> {
  const c = Object.fromEntries(op.sizes.map((s) => [s, 130])) as Record<string, number>;
  for (const s of op.sizes) if (Object.values(c).reduce((a, b) => a * b, 1) > 4e6) c[s] = 2;
  return constrainSizes(op, c);
}

export async function runCase(
  op: OpDef,
  v: Variant,
  sizes: Record<string, number>,
  device: DeviceSpec,
  seed: number,
): Promise<RunResult> {
  const rand = rng(seed);
  const shape = (dims: readonly (string | number)[]) =>
    dims.map((d) => (typeof d === 'number' ? d : sizes[d]!));
  const inputs: Record<string, Tensor> = {};
  const refIn: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const t of op.inputs) {
    const dt = resolveDType(t.dtype, v);
    const s = shape(t.dims);
    const [lo, hi] = inputRange(t.name, sizes);
    const draw = INT_DTYPES.has(dt)
      ? () => Math.min(hi - 1, Math.floor(lo + (hi - lo) * rand()))
      : () => lo + (hi - lo) * rand();
    const vals = Array.from({ length: s.reduce((a, b) => a * b, 1) }, draw);
    const x = Tensor.fromArray(dt as DType, s, vals as never, device);
    inputs[t.name] = x;
    refIn[t.name] = { shape: s, data: await x.toFloat64Array() };
  }
  const outputs: Record<string, Tensor> = {};
  for (const t of op.outputs)
    outputs[t.name] = Tensor.empty(resolveDType(t.dtype, v), shape(t.dims), device).poison();
  const params = op.params.map((p) => TEST_PARAMS[p.name]!);
  const args: unknown[] = [
    ...op.outputs.map((t) => outputs[t.name]),
    ...op.inputs.map((t) => inputs[t.name]),
  ];
  if (op.axisView) {
    // the kernels see [A, R, B]; call with a rank-3 x and axis 1 here (axis handling is tested apart)
    args.push(1);
  }
  args.push(...params);
  const fn = (ops as unknown as Record<string, (...a: unknown[]) => Promise<void>>)[`${op.name}Async`]!;
  await fn(...args);
  const ref = evaluateOp(
    op,
    refIn,
    Object.fromEntries(op.params.map((p) => [p.name, TEST_PARAMS[p.name]!])),
    sizes,
  );
  let worst = 0;
  let where = '';
  for (const t of op.outputs) {
    const dt = resolveDType(t.dtype, v);
    // a device schedule may have its own numerics (bf16 tensor cores): the op states how far off
    const own = device === 'cpu' ? undefined : op.template?.cudaTolerance;
    const atol = Math.max(TOL[dt]!.atol, own ?? 0);
    const rtol = Math.max(TOL[dt]!.rtol, own ?? 0);
    const got = await outputs[t.name]!.toFloat64Array();
    const want = ref[t.name]!.data;
    for (let i = 0; i < want.length; i++) {
      const e = Math.abs(got[i]! - want[i]!) / (atol + rtol * Math.abs(want[i]!));
      if (!(e <= worst)) {
        worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
        where = `${t.name}[${i}] = ${got[i]} vs ${want[i]}`;
      }
    }
  }
  for (const x of [...Object.values(inputs), ...Object.values(outputs)]) x.dispose();
  return { worst, where };
}
