// cuda_colsplit.ts: column reductions split across blocks (the bias gradients, LayerNorm's dweight and
// dbias at ViT shapes: a few hundred outputs, each a sum over 12,800-50,432 rows). A block of
// threads takes consecutive outputs (coalesced along the contiguous axis) over one slice of the rows
// (blockIdx.y), the REDUCE_UNROLL loads in flight as every reduction loop here (barrier-free), and
// writes its partials to a workspace (runtime/workspace.cpp); a second kernel combines each output's partials
// and runs the rest of the op (lets, stores) in place. The join takes 32 outputs a block (a warp's
// coalesced row of the workspace): its 8 warps sum the slices z = w, w + 8, ... and warp 0 adds
// the 8 sums in warp order, a fixed order (deterministic), with all of the GPU's SMs' worth of
// loads in flight rather than one thread per output walking every slice. It applies to an
// outreduce kernel whose reductions share their range and read no local (no other reduction, no
// let: each partial then is that reduction over its slice).
import type { IndexVar } from '../ir/expr.js';
import type { Stmt } from '../lower/lower.js';
import type { Reduce } from './outreduce.js';

/** Slices: at most COLSPLIT.MAX, each at least COLSPLIT.MIN_ROWS rows; THREADS a block. */
export const COLSPLIT = { MAX: 128, MIN_ROWS: 32, THREADS: 256 } as const;
/** the join's warps per block (each block combines 32 outputs) */
const JOIN_WARPS = COLSPLIT.THREADS / 32;

export interface ColsplitCtx {
  w(s: string): void;
  indent(d: number): void;
  prod(vars: readonly IndexVar[]): string;
  decompose(vars: readonly IndexVar[], flat: string): void;
  /** a reduction's loop (cuda.ts reduceLoop) over flat terms [start, end) */
  reduceLoop(s: Reduce, start: string, step: string, end: string): void;
  /** a statement run by one thread */
  serial(s: Stmt): void;
  readonly args: string;
  readonly ctype: string;
}

/** Emits `${name}_part` and `${name}_join`; returns the launcher lines (inside `if (_work > 0)`). */
export function emitColsplit(
  g: ColsplitCtx,
  name: string,
  vars: readonly IndexVar[],
  body: readonly Stmt[],
  reds: readonly Reduce[],
  launch: (name: string, grid: string, block: number, flat: boolean, extra: string) => string[],
): string[] {
  const T = COLSPLIT.THREADS;
  const rows = g.prod(reds[0]!.vars);
  const slot = (z: string, i: number) => `_ws[(${z} * ${reds.length} + ${i}) * _total + _f]`;
  // the part: a thread per output, grid-stride, over the block's slice of the rows
  g.w(
    `__global__ void __launch_bounds__(${T}) ${name}_part(${g.args}, ${g.ctype}* __restrict__ _ws, int64_t _RS) {`,
  );
  g.indent(1);
  g.w(`const int64_t _total = ${g.prod(vars)};`);
  g.w(`const int64_t _z = blockIdx.y, _lo = _z * _RS, _hi = _lo + _RS < ${rows} ? _lo + _RS : ${rows};`);
  g.w(
    'for (int64_t _f = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _f < _total; _f += (int64_t)gridDim.x * blockDim.x) {',
  );
  g.indent(1);
  g.decompose(vars, '_f');
  reds.forEach((r, i) => {
    g.w(`${g.ctype} ${r.name} = ${identity(r, g.ctype)};`);
    g.reduceLoop(r, '_lo', '1', '_hi');
    g.w(`${slot('_z', i)} = ${r.name};`);
  });
  g.indent(-1);
  g.w('}');
  g.indent(-1);
  g.w('}');
  emitJoin(g, name, vars, body, reds, slot);
  return [
    `  const int64_t _R = ${rows}, _cb = mae_blocks(_work, ${T}, 1 << 16);`,
    `  const int64_t _want = mae_colsplit(_cb, _R, mae_sm_count(device), ${COLSPLIT.MAX}, ${COLSPLIT.MIN_ROWS});`,
    '  const int64_t _RS = (_R + _want - 1) / _want, _S = (_R + _RS - 1) / _RS;',
    '  void* _wsp = nullptr;',
    `  if (mae_cuda_workspace(device, stream, (size_t)(_S * ${reds.length} * _work) * sizeof(${g.ctype}), &_wsp, OP)) return MAE_ERROR;`,
    `  ${g.ctype}* const _ws = static_cast<${g.ctype}*>(_wsp);`,
    ...launch(`${name}_part`, 'dim3((unsigned)_cb, (unsigned)_S)', T, true, ', _ws, _RS'),
    ...launch(`${name}_join`, '(unsigned)mae_blocks(_work, 32, 1 << 20)', T, false, ', _ws, _S'),
  ];
}

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
