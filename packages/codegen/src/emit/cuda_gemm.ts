// cuda_gemm.ts: the CUDA schedules of a contraction: a tensor-core kernel (mma.sync m16n8k16,
// bf16 operands staged in shared memory, fp32 accumulators) in two tile configurations chosen by
// shape, each also as an asynchronous variant (cp.async ring, swizzled tiles, ldmatrix) for plain
// bf16 tensor operands whose contiguous axis is a multiple of 8, and an fp32 SIMT tiled kernel for
// f32 operands. The tiling is hand-written in packages/native/src/device/gemm.cuh and
// gemm_async.cuh; this emits per contraction the kernel that instantiates it with the op's operand
// loads (or addresses) and its epilogue (bias, GELU, residual adds fused) as device lambdas; for the
// sm_90a kernel also the epilogue's 16-byte form (epilogueVecPlan) on V consecutive outputs.
import type { DType } from '../ir/dtype.js';
import { type IndexVar, type Node, walk } from '../ir/expr.js';
import type { TensorDecl } from '../ir/tensor.js';
import type { Contraction } from '../lower/lower.js';
import {
  emitVectorBody,
  type Load,
  mentions,
  type PreloadCtx,
  preload,
  vectorPlanOf,
  vectorStores,
} from './vector.js';

export interface MmaConfig {
  readonly BM: number;
  readonly BN: number;
  readonly BK: number;
  readonly WM: number; // warps along M
  readonly WN: number; // warps along N
  readonly STAGES: number; // k tiles in the asynchronous variant's ring (gemm_async.cuh)
}
/**
 * Split-K (the launcher's choice for one sample whose 128x128 tiles do not fill two waves): at most
 * SPLIT.MAX slices of k, each at least SPLIT.MIN_TILES k tiles of 32; the second pass runs
 * SPLIT_REDUCE_THREADS threads a block.
 */
export const SPLIT = { MAX: 16, MIN_TILES: 8 } as const;
export const SPLIT_REDUCE_THREADS = 256;
/** 64x64 with 4 stages (32 KiB of shared tiles), 128x128 with 3 (48 KiB, the static limit). */
export const MMA_CONFIGS: readonly MmaConfig[] = [
  { BM: 64, BN: 64, BK: 32, WM: 2, WN: 2, STAGES: 4 },
  { BM: 128, BN: 128, BK: 32, WM: 2, WN: 4, STAGES: 3 },
];

export interface GemmCtx extends PreloadCtx {
  w(s: string): void;
  indent(d: number): void;
  ext(v: IndexVar): string;
  prod(vars: readonly IndexVar[]): string;
  /** the index vars from a flat index (innermost last); `used`: those to declare (default all) */
  decompose(vars: readonly IndexVar[], flat: string, used?: (v: IndexVar) => boolean): void;
  value(n: Contraction['a']): string;
  /** the address of a load's element (`&t[offset]`) */
  addressOf(n: Extract<Node, { k: 'load' }>): string;
  /** a value expression with some loads rendered as what the emitter loaded already */
  valueWith(n: Node, loads: ReadonlyMap<Load, string>): string;
  epilogue(): void;
  args: string;
}

/**
 * Whether an operand is contiguous along its row index (m or n) rather than along k: its first
 * tensor load's last (contiguous) dimension is indexed by the row itself. gemm.cuh's staging then
 * walks the rows with consecutive threads (coalesced loads), else k.
 */
export function rowContiguous(operand: Node, row: IndexVar): boolean {
  const loads: Extract<Node, { k: 'load' }>[] = [];
  walk(operand, (n) => n.k === 'load' && loads.push(n));
  const last = loads[0]?.idx.at(-1);
  return last?.k === 'idx' && last.v.name === row.name;
}

/**
 * An operand the asynchronous kernel can copy in 16-byte chunks: a load of a tensor at exactly
 * [batch..., row, k] or [batch..., k, row], each index a loop variable running over that very
 * dimension (so rows and k tiles are whole rows of the tensor), with one k variable. Its
 * `contiguous` dimension (the tensor's last) must then be a multiple of 8 elements at run time.
 */
export interface DirectOperand {
  readonly load: Extract<Node, { k: 'load' }>;
  readonly contiguous: string | number; // the tensor's last dimension
}
export function directOperand(c: Contraction, which: 'a' | 'b'): DirectOperand | undefined {
  const n = c[which];
  if (n.k !== 'load' || c.kvars.length !== 1) return undefined;
  const row = which === 'a' ? c.m : c.n;
  const k = c.kvars[0]!;
  const vars = n.idx.map((x) => (x.k === 'idx' ? x.v : undefined));
  const names = vars.map((v) => v?.name ?? '').join();
  const batch = c.batch.map((v) => v.name);
  const orders = [
    [...batch, row.name, k.name],
    [...batch, k.name, row.name],
  ];
  if (!orders.some((o) => o.join() === names)) return undefined;
  // every index runs over its very dimension: k tiles and row tiles are whole rows of the tensor
  const whole = vars.every((v, i) => {
    const d = n.t.dims[i]!;
    return (
      v && ((v.extent.k === 'size' && v.extent.name === d) || (v.extent.k === 'iconst' && v.extent.v === d))
    );
  });
  return whole ? { load: n, contiguous: n.t.dims.at(-1)! } : undefined;
}

/** The template arguments ARow, BRow of gemm.cuh's skeletons for a contraction. */
const rowFlags = (c: Contraction) => `${rowContiguous(c.a, c.m)}, ${rowContiguous(c.b, c.n)}`;

/** How a GEMM kernel calls its skeleton. */
interface KernelCall {
  readonly threads: number;
  readonly call: string; // the skeleton, a template with its arguments
  readonly ct: string; // the accumulator type the epilogue takes
  readonly direct?: boolean; // the operand lambdas give addresses (gemm_async.cuh), not values
  readonly lambdas?: readonly ('a' | 'b' | 'out')[]; // the lambdas the skeleton takes (default all)
  readonly params?: string; // kernel parameters after the op's
  readonly args?: string; // the skeleton's arguments (default _BATCH, _M, _N, _K, _a, _b, _out)
  readonly vec?: EpilogueVec; // also the epilogue's 16-byte form, `_outv`
}

/**
 * The 16-byte form of a contraction's epilogue: every tensor its values read along n with stride 1
 * (vector.ts's plan: one 16-byte load gives V consecutive outputs' elements; the other reads do not
 * depend on n) and every store along n likewise, all of one element size (bf16: V = 8, f32: 4).
 * Undefined where the epilogue has another shape (its scalar form serves).
 */
export interface EpilogueVec {
  readonly width: number;
  readonly loads: readonly Load[];
  /** the tensors read or written along n: whole aligned vectors a row for the 16-byte form */
  readonly tensors: readonly TensorDecl[];
}
export function epilogueVecPlan(c: Contraction, dtypeOf: (t: TensorDecl) => DType): EpilogueVec | undefined {
  const body = c.epilogue;
  if (!body.every((st) => st.k === 'let' || st.k === 'store')) return undefined;
  const values = body.flatMap((st) => (st.k === 'let' ? [st.value] : []));
  const widths = new Set<number>();
  const tensors = new Set<TensorDecl>();
  let loads: readonly Load[] = [];
  if (values.some((v) => mentions(v, c.n))) {
    const p = vectorPlanOf(c.n, values, (l) => dtypeOf(l.t));
    if (!p) return undefined;
    widths.add(p.width);
    loads = p.loads;
    for (const l of p.loads) tensors.add(l.t);
  }
  const stores = vectorStores(body, c.n, dtypeOf);
  if (!stores) return undefined;
  for (const w of stores.widths) widths.add(w);
  for (const t of stores.tensors) tensors.add(t);
  if (widths.size !== 1 || tensors.size === 0) return undefined;
  return { width: [...widths][0]!, loads, tensors: [...tensors] };
}

/**
 * `_outv(bb, m, n, acc)`: the epilogue on outputs n .. n + V - 1 of row m from their V accumulators,
 * each tensor read along n with one 16-byte load, each output stored with one 16-byte store.
 */
function emitEpilogueVec(g: GemmCtx, c: Contraction, bb: string, batch: () => void, vec: EpilogueVec) {
  const V = vec.width;
  g.w(
    `const auto _outv = [&](${bb}, int64_t ${c.m.name}, int64_t ${c.n.name}, const float (&_accv)[${V}]) {`,
  );
  g.indent(1);
  batch();
  const loads = preload(g, vec.loads, V, 'e');
  emitVectorBody({ ...g, value: g.valueWith }, c.epilogue, loads, V, `const float ${c.acc} = _accv[_e];`);
  g.indent(-1);
  g.w('};');
}

/** The kernel: sizes, the op's operand loads (or addresses) and epilogue as device lambdas, and the skeleton's call. */
function emitKernel(g: GemmCtx, c: Contraction, name: string, k: KernelCall) {
  const lambdas = k.lambdas ?? ['a', 'b', 'out'];
  // minBlocks 1: let ptxas use the registers the accumulators need rather than spill
  g.w(
    `__global__ void __launch_bounds__(${k.threads}, 1) ${name}(${g.args}${k.params ? `, ${k.params}` : ''}) {`,
  );
  g.indent(1);
  const args = k.args ?? '_BATCH, _M, _N, _K, _a, _b, _out';
  const sizes = [
    ['_BATCH', g.prod(c.batch)],
    ['_M', g.ext(c.m)],
    ['_N', g.ext(c.n)],
    ['_K', g.prod(c.kvars)],
  ].filter(([n]) => new RegExp(`\\b${n}\\b`).test(args));
  g.w(`const int64_t ${sizes.map(([n, v]) => `${n} = ${v}`).join(', ')};`);
  const batch = () => {
    if (c.batch.length) g.decompose(c.batch, '_bb');
  };
  const bb = c.batch.length ? 'int64_t _bb' : 'int64_t /*_bb*/';
  for (const [which, row] of [
    ['a', c.m],
    ['b', c.n],
  ] as const) {
    if (!lambdas.includes(which)) continue;
    const operand = which === 'a' ? c.a : c.b;
    const type = k.direct ? 'const __nv_bfloat16*' : 'float';
    g.w(`const auto _${which} = [&](${bb}, int64_t ${row.name}, int64_t _kf) -> ${type} {`);
    g.indent(1);
    batch();
    g.decompose(c.kvars, '_kf');
    g.w(`return ${k.direct && operand.k === 'load' ? g.addressOf(operand) : g.value(operand)};`);
    g.indent(-1);
    g.w('};');
  }
  if (lambdas.includes('out')) {
    g.w(`const auto _out = [&](${bb}, int64_t ${c.m.name}, int64_t ${c.n.name}, ${k.ct} ${c.acc}) {`);
    g.indent(1);
    batch();
    g.epilogue();
    g.indent(-1);
    g.w('};');
    if (k.vec) emitEpilogueVec(g, c, bb, batch, k.vec);
  }
  g.w(`${k.call}(${args});`);
  g.indent(-1);
  g.w('}');
}

/** A tensor-core kernel (gemm.cuh's mae_gemm_mma) in tile configuration cfg. */
export function emitMmaKernel(g: GemmCtx, c: Contraction, name: string, cfg: MmaConfig) {
  const { BM, BN, BK, WM, WN } = cfg;
  emitKernel(g, c, name, {
    threads: 32 * WM * WN,
    call: `mae_gemm_mma<${BM}, ${BN}, ${BK}, ${WM}, ${WN}, ${rowFlags(c)}>`,
    ct: 'float',
  });
}

/**
 * The asynchronous tensor-core kernel (gemm_async.cuh's mae_gemm_mma_async) in tile configuration
 * cfg, for a contraction whose operands are both directOperand()s; the launcher picks it when their
 * contiguous dimensions are multiples of 8 and the tensors 16-byte aligned.
 */
export function emitMmaAsyncKernel(g: GemmCtx, c: Contraction, name: string, cfg: MmaConfig) {
  const { BM, BN, BK, WM, WN, STAGES } = cfg;
  emitKernel(g, c, name, {
    threads: 32 * WM * WN,
    call: `mae_gemm_mma_async<${BM}, ${BN}, ${BK}, ${WM}, ${WN}, ${STAGES}, ${rowFlags(c)}>`,
    ct: 'float',
    direct: true,
  });
}

/**
 * Split-K for one sample (gemm_async.cuh): `${name}` writes the f32 partial products of the k
 * slices [z _KS, (z + 1) _KS) to the workspace _ws[z][M][N] (blocks along x over (z, n tile)), `${name}_reduce` sums
 * them in order and runs the op's epilogue (barrier-free, a thread per output).
 */
export function emitMmaSplitKernels(g: GemmCtx, c: Contraction, name: string, cfg: MmaConfig) {
  const { BM, BN, BK, WM, WN, STAGES } = cfg;
  emitKernel(g, c, name, {
    threads: 32 * WM * WN,
    call: `mae_gemm_mma_async_split<${BM}, ${BN}, ${BK}, ${WM}, ${WN}, ${STAGES}, ${rowFlags(c)}>`,
    ct: 'float',
    direct: true,
    lambdas: ['a', 'b'],
    params: 'float* __restrict__ _ws, int64_t _KS',
    args: '_M, _N, _K, _KS, _a, _b, _ws',
  });
  emitKernel(g, c, `${name}_reduce`, {
    threads: SPLIT_REDUCE_THREADS,
    call: 'mae_gemm_split_reduce',
    ct: 'float',
    lambdas: ['out'],
    params: 'const float* __restrict__ _ws, int64_t _S',
    args: '_M, _N, _S, _ws, _out',
  });
}

/**
 * The sm_90a wgmma GEMM's tile width and depth and its threads (gemm_wgmma.cuh: MAE_WG_*; the rows
 * and the grid's y come from there, mae_wg_grid_m), and split-K's least k tiles per slice.
 */
export const WGMMA = { BN: 256, BK: 64, THREADS: 384, MIN_TILES: 4 } as const;
const TMA_PARAMS = 'const __grid_constant__ MaeTmaMap _ta, const __grid_constant__ MaeTmaMap _tb';

/**
 * The sm_90a kernels (gemm_wgmma.cuh) for a contraction whose operands are both directOperand()s:
 * `${name}` the whole product through the op's epilogue (persistent: `_BT` samples' tiles over the
 * grid's clusters of `_CN` CTAs along n by the rest along m), `${name}_split` the f32 partials of k
 * slices for split-K (summed by the mma kernels' `_reduce`); the operands come as TMA tensor maps.
 */
export function emitWgmmaKernels(g: GemmCtx, c: Contraction, name: string, vec: EpilogueVec | undefined) {
  const flags = rowFlags(c);
  emitKernel(g, c, name, {
    threads: WGMMA.THREADS,
    ct: 'float',
    lambdas: ['out'],
    ...(vec
      ? {
          call: `mae_gemm_wgmma<${flags}, ${vec.width}>`,
          params: `${TMA_PARAMS}, int64_t _BT, int _CN, int _vec`,
          args: '_M, _N, _K, _BT, _CN, _ta, _tb, _out, _outv, _vec != 0',
          vec,
        }
      : {
          call: `mae_gemm_wgmma<${flags}>`,
          params: `${TMA_PARAMS}, int64_t _BT, int _CN`,
          args: '_M, _N, _K, _BT, _CN, _ta, _tb, _out',
        }),
  });
  emitKernel(g, c, `${name}_split`, {
    threads: WGMMA.THREADS,
    call: `mae_gemm_wgmma_split<${flags}>`,
    ct: 'float',
    lambdas: [],
    params: `${TMA_PARAMS}, float* __restrict__ _ws, int64_t _KS, int _CN`,
    args: '_M, _N, _K, _KS, _CN, _ta, _tb, _ws',
  });
}

/** The fp32 SIMT kernel (gemm.cuh's mae_gemm_simt): 64x64 tiles, 256 threads, 4x4 outputs per thread. */
export function emitSimtKernel(g: GemmCtx, c: Contraction, name: string, ct: string) {
  emitKernel(g, c, name, { threads: 256, call: `mae_gemm_simt<${ct}, ${rowFlags(c)}>`, ct });
}
