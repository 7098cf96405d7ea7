// cuda_colsplit.ts: column reductions split across blocks (the bias gradients, LayerNorm's dweight and
// dbias at ViT shapes: a few hundred outputs, each a sum over 12,800-50,432 rows). In the part
// kernel a warp's lanes take consecutive outputs (V each where vector.ts's plan allows: one 16-byte
// load per tensor read along the outputs, else one) over one slice of the rows, loading U rows before
// adding them (REDUCE_UNROLL, or 2 with vectors); a block's 8 warps take 8 consecutive slices and
// add their partials in warp order (through shared memory) into one workspace row
// (runtime/workspace.cpp): slices of MIN_ROWS rows or more, enough for BLOCKS_PER_SM blocks an SM. A second
// kernel combines each output's partials and runs the rest of the op (lets, stores) in place. The
// join takes 32 outputs a block (a warp's coalesced row of the workspace): its 8 warps sum the
// workspace rows z = w, w + 8, ... and warp 0 adds the 8 sums in warp order. Every sum is in a fixed
// order (deterministic). It applies to an outreduce kernel whose reductions share their range and
// read no local (no other reduction, no let: each partial then is that reduction over its slice).
import type { IndexVar } from '../ir/expr.js';
import type { Stmt } from '../lower/lower.js';
import type { Reduce } from './outreduce.js';
import { type Load, mentions, type VectorEmitCtx, type VectorPlan } from './vector.js';

/**
 * Slices: at most COLSPLIT.MAX, each at least COLSPLIT.MIN_ROWS rows, enough for BLOCKS_PER_SM
 * blocks an SM (one wave of the vector kernels at their 40-77 registers: 3-6 blocks an SM);
 * THREADS a block.
 */
export const COLSPLIT = { MAX: 2048, MIN_ROWS: 8, BLOCKS_PER_SM: 3, THREADS: 256 } as const;
/** warps per block: the part's slices a block (SLICE_WARPS), the join's warps */
const SLICE_WARPS = COLSPLIT.THREADS / 32;
const JOIN_WARPS = COLSPLIT.THREADS / 32;

export interface ColsplitCtx extends VectorEmitCtx {
  /** a load's element address, `&t[offset]` */
  address(n: Load): string;
  /** a statement run by one thread */
  serial(s: Stmt): void;
  /** terms a thread loads before adding them, one output a lane */
  readonly unroll: number;
}

/** Emits `${name}_part` (and `${name}_partv` with a plan) and `${name}_join`; returns the launcher lines (inside `if (_work > 0)`). */
export function emitColsplit(
  g: ColsplitCtx,
  name: string,
  vars: readonly IndexVar[],
  body: readonly Stmt[],
  reds: readonly Reduce[],
  plan: VectorPlan | undefined,
  launch: (name: string, grid: string, block: number, flat: boolean, extra: string) => string[],
): string[] {
  const T = COLSPLIT.THREADS;
  const slot = (z: string, i: number) => `_ws[(${z} * ${reds.length} + ${i}) * _total + _f]`;
  emitPart(g, `${name}_part`, vars, reds, undefined);
  if (plan) emitPart(g, `${name}_partv`, vars, reds, plan);
  emitJoin(g, name, vars, body, reds, slot);
  const last = vars[vars.length - 1]!;
  const V = plan?.width ?? 1;
  // whole vectors in every row of the outputs and of each tensor read along them, 16-byte aligned
  const fits = plan && [
    ...new Set([
      `${g.prod([last])} % ${V} == 0`,
      ...[...new Set(plan.loads.map((l) => l.t))].flatMap((t) => [
        `(${g.dim(t, t.dims.length - 1)}) % ${V} == 0`,
        `mae_aligned16(${g.pointer(t)})`,
      ]),
    ]),
  ];
  const part = (kernel: string) =>
    launch(kernel, 'dim3((unsigned)_cb, (unsigned)_SB)', T, false, ', _ws, _RS');
  return [
    `  const int64_t _R = ${g.prod(reds[0]!.vars)}, _V = ${fits ? `${fits.join(' && ')} ? ${V} : 1` : '1'};`,
    '  const int64_t _cb = mae_blocks(_work / _V, 32, 1 << 16);',
    `  const int64_t _want = mae_colsplit(_cb, _R, ${COLSPLIT.BLOCKS_PER_SM} * mae_sm_count(device), ${COLSPLIT.MAX}, ${COLSPLIT.MIN_ROWS});`,
    `  const int64_t _RS = (_R + _want - 1) / _want, _S = (_R + _RS - 1) / _RS, _SB = (_S + ${SLICE_WARPS - 1}) / ${SLICE_WARPS};`,
    '  void* _wsp = nullptr;',
    `  if (mae_cuda_workspace(device, stream, (size_t)(_SB * ${reds.length} * _work) * sizeof(${g.ctype}), &_wsp, OP)) return MAE_ERROR;`,
    `  ${g.ctype}* const _ws = static_cast<${g.ctype}*>(_wsp);`,
    ...(plan ? ['  if (_V > 1) {', ...part(`${name}_partv`), '  } else {'] : []),
    ...part(`${name}_part`),
    ...(plan ? ['  }'] : []),
    ...launch(`${name}_join`, '(unsigned)mae_blocks(_work, 32, 1 << 20)', T, false, ', _ws, _SB'),
  ];
}

/**
 * The part: lane l of warp w takes outputs [V (32 blockIdx.x + l), + V) over slice 8 blockIdx.y + w
 * of the rows; the block's warps' partials are added in warp order into workspace row blockIdx.y.
 */
function emitPart(
  g: ColsplitCtx,
  name: string,
  vars: readonly IndexVar[],
  reds: readonly Reduce[],
  plan?: VectorPlan,
) {
  const ct = g.ctype;
  const V = plan?.width ?? 1;
  const U = plan ? 2 : g.unroll;
  const rows = g.prod(reds[0]!.vars);
  const each = (s: string) => {
    g.w('#pragma unroll');
    g.w(`for (int _e = 0; _e < ${V}; ++_e) ${s}`);
  };
  g.w(
    `__global__ void __launch_bounds__(${COLSPLIT.THREADS}) ${name}(${g.args}, ${ct}* __restrict__ _ws, int64_t _RS) {`,
  );
  g.indent(1);
  g.w(`MAE_SHARED(${ct}, _pw, [${reds.length}][${SLICE_WARPS}][${V}][32]);`);
  g.w(`const int64_t _total = ${g.prod(vars)};`);
  g.w('const int _lane = threadIdx.x & 31, _pwi = threadIdx.x >> 5;');
  g.w(`const int64_t _lo = ((int64_t)blockIdx.y * ${SLICE_WARPS} + _pwi) * _RS;`);
  g.w(`const int64_t _hi = _lo + _RS < ${rows} ? _lo + _RS : ${rows};`);
  g.w(`const int64_t _f0 = ((int64_t)blockIdx.x * 32 + _lane) * ${V};`);
  for (const r of reds) {
    g.w(`${ct} ${r.name}[${V}];`);
    each(`${r.name}[_e] = ${identity(r, ct)};`);
  }
  g.w('if (_f0 < _total) {');
  g.indent(1);
  // the outputs' index vars the reductions read (an op whose sums do not depend on every output
  // index, batchnorm1d_backward's, declares only those)
  g.decompose(vars, '_f0', (v) => reds.some((r) => mentions(r.body, v)));
  g.w(`for (int64_t _r = _lo; _r < _hi; _r += ${U}) {`);
  g.indent(1);
  for (let u = 0; u < U; u++) partRow(g, reds, plan, u);
  for (const r of reds) {
    each(combineInto(r, `${r.name}[_e]`, `_u0_${r.name}[_e]`));
    for (let u = 1; u < U; u++) {
      g.w(`if (_r + ${u} < _hi) {`);
      each(combineInto(r, `${r.name}[_e]`, `_u${u}_${r.name}[_e]`));
      g.w('}');
    }
  }
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  reds.forEach((r, i) => each(`_pw[${i}][_pwi][_e][_lane] = ${r.name}[_e];`));
  g.w('__syncthreads();');
  g.w('if (_pwi == 0 && _f0 < _total) {');
  g.indent(1);
  reds.forEach((r, i) => {
    each(`${r.name}[_e] = _pw[${i}][0][_e][_lane];`);
    g.w(`for (int _w = 1; _w < ${SLICE_WARPS}; ++_w) {`);
    each(combineInto(r, `${r.name}[_e]`, `_pw[${i}][_w][_e][_lane]`));
    g.w('}');
    const out = `_ws + ((int64_t)blockIdx.y * ${reds.length} + ${i}) * _total + _f0`;
    if (V % 4 === 0 && ct === 'float')
      for (let h = 0; h < V; h += 4)
        g.w(`mae_st16(${out} + ${h}, ${[0, 1, 2, 3].map((k) => `${r.name}[${h + k}]`).join(', ')});`);
    else each(`(${out})[_e] = ${r.name}[_e];`);
  });
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
}

/** Row _r + u of the slice: each reduction's V terms into _u{u}_{name} (its vectors loaded first). */
function partRow(g: ColsplitCtx, reds: readonly Reduce[], plan: VectorPlan | undefined, u: number) {
  const ct = g.ctype;
  const V = plan?.width ?? 1;
  for (const r of reds) g.w(`${ct} _u${u}_${r.name}[${V}] = {${Array(V).fill(identity(r, ct)).join(', ')}};`);
  g.w(u === 0 ? '{' : `if (_r + ${u} < _hi) {`);
  g.indent(1);
  g.decompose(reds[0]!.vars, u === 0 ? '_r' : `_r + ${u}`);
  // each distinct load along the outputs once (LayerNorm's two sums read the same rows)
  const names = new Map<string, string>();
  const loads = new Map<Load, string>();
  for (const l of plan?.loads ?? []) {
    const at = g.address(l);
    let v = names.get(at);
    if (v === undefined) {
      v = `_v${u}_${names.size}`;
      names.set(at, v);
      g.w(`${ct} ${v}[${V}];`);
      g.w(`mae_ld_vec(${v}, ${at});`);
    }
    loads.set(l, `${v}[_e]`);
  }
  for (const r of reds) {
    g.w('#pragma unroll');
    g.w(
      `for (int _e = 0; _e < ${V}; ++_e) _u${u}_${r.name}[_e] = ${g.value(r.body, plan ? loads : undefined)};`,
    );
  }
  g.indent(-1);
  g.w('}');
}

const combineInto = (r: Reduce, acc: string, v: string) =>
  r.op === 'max' ? `${acc} = fmax(${acc}, ${v});` : `${acc} += ${v};`;

/** A reduction's starting value: 0 for a sum, -inf for a max. */
const identity = (r: Reduce, ctype: string) => (r.op === 'max' ? `(${ctype})(-INFINITY)` : `(${ctype})0`);

/** `${name}_join`: 32 outputs a block; warp w sums slices w, w + 8, ...; warp 0 adds the 8 sums in order. */
function emitJoin(
  g: ColsplitCtx,
  name: string,
  vars: readonly IndexVar[],
  body: readonly Stmt[],
  reds: readonly Reduce[],
  slot: (z: string, i: number) => string,
) {
  const combine = (r: Reduce, v: string) =>
    r.op === 'max' ? `${r.name} = fmax(${r.name}, ${v});` : `${r.name} += ${v};`;
  g.w(
    `__global__ void __launch_bounds__(${COLSPLIT.THREADS}) ${name}_join(${g.args}, const ${g.ctype}* __restrict__ _ws, int64_t _S) {`,
  );
  g.indent(1);
  g.w(`const int64_t _total = ${g.prod(vars)};`);
  g.w(`MAE_SHARED(${g.ctype}, _jsum, [${reds.length}][${JOIN_WARPS}][32]);`);
  g.w('const int _lane = threadIdx.x & 31, _jw = threadIdx.x >> 5;');
  // the loop's bounds depend on the block only: every thread reaches both barriers
  g.w('for (int64_t _fb = (int64_t)blockIdx.x * 32; _fb < _total; _fb += (int64_t)gridDim.x * 32) {');
  g.indent(1);
  g.w('const int64_t _f = _fb + _lane;');
  g.w('if (_f < _total) {');
  g.indent(1);
  reds.forEach((r, i) => {
    g.w(`${g.ctype} ${r.name} = ${identity(r, g.ctype)};`);
    g.w('#pragma unroll 4');
    g.w(`for (int64_t _z = _jw; _z < _S; _z += ${JOIN_WARPS}) ${combine(r, slot('_z', i))}`);
    g.w(`_jsum[${i}][_jw][_lane] = ${r.name};`);
  });
  g.indent(-1);
  g.w('}');
  g.w('__syncthreads();');
  g.w('if (_jw == 0 && _f < _total) {');
  g.indent(1);
  g.decompose(vars, '_f');
  for (const s of body) {
    const i = reds.indexOf(s as Reduce);
    if (i < 0) {
      g.serial(s);
      continue;
    }
    const r = reds[i]!;
    g.w(`${g.ctype} ${r.name} = _jsum[${i}][0][_lane];`);
    g.w(`for (int _w = 1; _w < ${JOIN_WARPS}; ++_w) ${combine(r, `_jsum[${i}][_w][_lane]`)}`);
  }
  g.indent(-1);
  g.w('}');
  g.w('__syncthreads();');
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
}
