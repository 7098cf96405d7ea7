// cuda.ts: the CUDA emitter. Renders each lowered kernel with the schedule its classification
// picked (pointwise grid-stride, rowwise block-per-row with block reductions, outreduce thread-
// or warp-per-output chosen by shape, contraction GEMMs) and a launcher per op variant.

import { CPU_STORAGE } from '../ir/dtype.js';
import type { IndexVar, Node } from '../ir/expr.js';
import { computeDType, type OpDef, resolveDType, type Variant } from '../ir/op.js';
import { type Contraction, type Kernel, lowerOp, type Schedule, type Stmt } from '../lower/lower.js';
import { emitColsplit } from './cuda_colsplit.js';
import {
  type DirectOperand,
  directOperand,
  emitMmaAsyncKernel,
  emitMmaKernel,
  emitMmaSplitKernels,
  emitSimtKernel,
  emitWgmmaKernels,
  epilogueVecPlan,
  type GemmCtx,
  MMA_CONFIGS,
  type MmaConfig,
  rowContiguous,
  SPLIT,
  SPLIT_REDUCE_THREADS,
  WGMMA,
} from './cuda_gemm.js';
import { emitRowVec, rowVecPlan } from './cuda_rowvec.js';
import { splittable } from './outreduce.js';
import { CudaRenderer } from './render.js';
import {
  cudaKernelParams,
  cudaLaunchArgs,
  cudaVariants,
  GENERATED_BY,
  kernelArgs,
  kernelName,
} from './signature.js';
import { cudaTemplate, templateCtx } from './templates.js';
import { type Load, type VectorEmitCtx, vectorPlan, wholeVectors } from './vector.js';

/** Terms of a reduction each thread loads before adding them (cuda.ts's reduce loops). */
export const REDUCE_UNROLL = 4;
/** The longest row a rowwise op's warp-per-row kernel takes (longer rows: a block each). */
const ROW_WARP_MAX = 4096;

// The hand-written device code (reductions, the mma helper, launch helpers, the GEMM tiles) and the macros that
// stand for CUDA syntax (launches, shared memory) live in packages/native/src/device/*.cuh, so that
// the same sources compile with nvcc and, under MAE_CUDA_EMULATOR, as host C++ (packages/native/emu).
const PRELUDE = `#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cstdint>
#include <cmath>
#include "internal.h"
#include "kernels.h"
#include "mae_device.cuh"
#include "prelude.cuh"
#include "gemm.cuh"
#include "gemm_async.cuh"
#include "gemm_wgmma.cuh"
#include "hopper_host.cuh"
`;

export class CudaEmitter {
  readonly r: CudaRenderer;
  private lines: string[] = [];
  private ind = 0;
  private readonly args: string;
  /** what the launcher passes: the device-typed views of the pointers, params in the compute type */
  private readonly launchArgs: string;
  constructor(
    readonly op: OpDef,
    readonly variant: Variant,
  ) {
    this.r = new CudaRenderer(op, variant);
    this.args = cudaKernelParams(op, variant, (d) => this.r.storage(d), this.r.ctype);
    this.launchArgs = cudaLaunchArgs(op, variant);
  }
  private w(s: string) {
    this.lines.push('  '.repeat(this.ind) + s);
  }
  private ext(v: IndexVar) {
    return this.r.index(v.extent);
  }
  private prod(vars: readonly IndexVar[]) {
    return vars.length ? vars.map((v) => `(${this.ext(v)})`).join(' * ') : '(int64_t)1';
  }
  /** The index vars from a flat index, innermost last; only those `used` says the body reads declared. */
  private decompose(vars: readonly IndexVar[], flat: string, used: (v: IndexVar) => boolean = () => true) {
    const tmp = `_rem_${vars[0]!.name}`;
    const last = vars.findIndex(used);
    if (last < 0) return;
    this.w(`int64_t ${tmp} = ${flat};`);
    for (let i = vars.length - 1; i >= last; i--) {
      const v = vars[i]!;
      const div = i > last ? ` ${tmp} /= (${this.ext(v)});` : '';
      if (!used(v)) this.w(div.trim());
      else if (i === 0) this.w(`const int64_t ${v.name} = ${tmp};`);
      else this.w(`const int64_t ${v.name} = ${tmp} % (${this.ext(v)});${div}`);
    }
  }

  /** Statements run by one thread (mode 'serial') or by all threads of a block / warp for a row. */
  private stmt(s: Stmt, mode: 'serial' | 'block' | 'warp') {
    const r = this.r;
    const ct = r.ctype;
    switch (s.k) {
      case 'loop': {
        const [start, step] = {
          block: ['threadIdx.x', 'blockDim.x'],
          warp: ['_lane', '32'],
          serial: ['0', '1'],
        }[mode];
        this.w(
          `for (int64_t ${s.v.name} = ${start}; ${s.v.name} < ${this.ext(s.v)}; ${s.v.name} += ${step}) {`,
        );
        this.ind++;
        s.body.forEach((b) => this.stmt(b, 'serial'));
        this.ind--;
        this.w('}');
        break;
      }
      case 'reduce': {
        const isMax = s.op === 'max';
        this.w(`${ct} ${s.name} = ${isMax ? `(${ct})(-INFINITY)` : `(${ct})0`};`);
        const start = { block: 'threadIdx.x', warp: '_lane', serial: '0' }[mode];
        const step = { block: 'blockDim.x', warp: '32', serial: '1' }[mode];
        this.reduceLoop(s, start, step);
        if (mode === 'block') this.w(`${s.name} = mae_block_reduce<${isMax}>(${s.name}, _red);`);
        if (mode === 'warp') this.w(`${s.name} = ${isMax ? 'mae_warp_max' : 'mae_warp_sum'}(${s.name});`);
        break;
      }
      case 'let':
        this.w(`const ${ct} ${s.name} = ${r.value(s.value)};`);
        break;
      case 'store': {
        const guard = {
          block: 'if (threadIdx.x == 0) ',
          warp: 'if (_lane == 0) ',
          serial: '',
        }[mode];
        this.w(guard + r.store(s.t, s.idx, s.local));
        break;
      }
    }
  }

  /**
   * A reduction's loop over its terms, each thread from `start` by `step`: REDUCE_UNROLL terms are
   * loaded (into scalars, written out one by one) before any is combined, in the same order as one
   * at a time, so the same result; their loads are in flight together instead of one global
   * latency each. Terms past the end are not combined (fmax would turn a NaN so far into padding).
   */
  private reduceLoop(s: Extract<Stmt, { k: 'reduce' }>, start: string, step: string) {
    const ct = this.r.ctype;
    const [f, n] = [`_f_${s.name}`, this.prod(s.vars)];
    const term = (u: number) => `_u${u}_${s.name}`;
    const combine = (v: string) =>
      s.op === 'max' ? `${s.name} = fmax(${s.name}, ${v});` : `${s.name} += ${v};`;
    this.w(`for (int64_t ${f} = ${start}; ${f} < ${n}; ${f} += ${REDUCE_UNROLL} * ${step}) {`);
    this.ind++;
    for (let u = 0; u < REDUCE_UNROLL; u++) {
      const g = u === 0 ? f : `${f} + ${u} * ${step}`;
      this.w(`${ct} ${term(u)} = ${s.op === 'max' ? `(${ct})(-INFINITY)` : `(${ct})0`};`);
      this.w(u === 0 ? '{' : `if (${g} < ${n}) {`);
      this.ind++;
      this.decompose(s.vars, g);
      this.w(`${term(u)} = ${this.r.value(s.body)};`);
      this.ind--;
      this.w('}');
    }
    this.w(combine(term(0)));
    for (let u = 1; u < REDUCE_UNROLL; u++) this.w(`if (${f} + ${u} * ${step} < ${n}) ${combine(term(u))}`);
    this.ind--;
    this.w('}');
  }

  /** A rowwise schedule's row: its statements in `mode` (a block's or a warp's threads), then the row loop and kernel closed. */
  private rowwiseBody(s: Extract<Schedule, { kind: 'rowwise' }>, mode: 'block' | 'warp') {
    this.ind++;
    this.decompose(s.rows, '_row');
    s.rowBody.forEach((b) => this.stmt(b, mode));
    this.stmt(s.inner, mode);
    s.after.forEach((b) => this.stmt(b, mode));
    this.ind--;
    this.w('}');
    this.close();
  }

  /** The rowwise kernel with 16-byte accesses where its plan allows (f32 compute): its launch condition. */
  private rowVec(name: string, s: Extract<Schedule, { kind: 'rowwise' }>): string | undefined {
    const plan = this.r.ct === 'f32' ? rowVecPlan(s, (t) => this.r.dtypeOf(t)) : undefined;
    if (!plan) return undefined;
    return emitRowVec(
      {
        ...this.vectorCtx(),
        address: (t, idx) => `&${t.name}[${this.r.offset(t, idx)}]`,
        dtypeOf: (t) => this.r.dtypeOf(t),
        warp: (x) => this.stmt(x, 'warp'),
        warpRows: (name, rows) => this.warpRows(name, rows),
      },
      name,
      s,
      plan,
    );
  }
  /** What the 16-byte kernels' emitters (cuda_colsplit.ts, cuda_rowvec.ts) share of this one. */
  private vectorCtx(): VectorEmitCtx {
    return {
      w: (x) => this.w(x),
      indent: (d) => {
        this.ind += d;
      },
      prod: (v) => this.prod(v),
      decompose: (v, f, u) => this.decompose(v, f, u),
      value: (n, loads) => this.valueWith(n, loads),
      dim: (t, i) => this.r.dim(t.dims[i]!),
      pointer: (t) => `${t.name}_k`,
      args: this.args,
      ctype: this.r.ctype,
    };
  }
  /** A value with some loads rendered as what an emitter loaded already (vector elements). */
  private valueWith(n: Node, loads?: ReadonlyMap<Load, string>): string {
    this.r.loadOverride = loads && ((l) => loads.get(l));
    const v = this.r.value(n);
    this.r.loadOverride = undefined;
    return v;
  }

  /** A warp-per-row kernel's head, up to its open loop over the rows (`_row`, `_lane`). */
  private warpRows(name: string, rows: readonly IndexVar[]) {
    this.kernelHead(name, this.op.cuda.threads ?? 256);
    this.w(`const int64_t _rows = ${this.prod(rows)};`);
    this.w('const int _lane = threadIdx.x & 31;');
    this.w('const int64_t _nw = (int64_t)gridDim.x * (blockDim.x >> 5);');
    this.w(
      'for (int64_t _row = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5; _row < _rows; _row += _nw) {',
    );
  }

  private kernelHead(name: string, threads: number) {
    this.w(`__global__ void __launch_bounds__(${threads}) ${name}(${this.args}) {`);
    this.ind++;
  }
  private close() {
    this.ind--;
    this.w('}');
  }

  /** Emits the kernels of k; returns the launcher body lines for it. */
  private kernel(k: Kernel): string[] {
    const s = k.schedule;
    const T = this.op.cuda.threads ?? 256;
    // flat: the kernel has no barrier and no warp collective (the emulator runs it without fibers)
    const launch = (name: string, grid: string, block: number | string, flat = false, extra = '') => [
      `  ${flat ? 'MAE_LAUNCH_FLAT' : 'MAE_LAUNCH'}(${name}, ${grid}, ${block}, 0, _st, ${this.launchArgs}${extra});`,
      `  if (mae_launched(OP)) return MAE_ERROR;`,
    ];
    switch (s.kind) {
      case 'pointwise': {
        this.kernelHead(k.name, T);
        this.w(`const int64_t _total = ${this.prod(s.vars)};`);
        this.w(
          'for (int64_t _f = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _f < _total; _f += (int64_t)gridDim.x * blockDim.x) {',
        );
        this.ind++;
        this.decompose(s.vars, '_f');
        s.body.forEach((b) => this.stmt(b, 'serial'));
        this.ind--;
        this.w('}');
        this.close();
        return [
          `{ const int64_t _work = ${this.prod(s.vars)};`,
          `  if (_work > 0) {`,
          ...launch(k.name, `(unsigned)mae_blocks(_work, ${T}, 1 << 20)`, T, true),
          '} }',
        ];
      }
      case 'rowwise': {
        // a block per row; and a warp per row (no block barriers, and a block's rows share the
        // sectors of their per-column operands, a LayerNorm's weight and bias)
        this.kernelHead(k.name, T);
        this.w(`MAE_SHARED(${this.r.ctype}, _red, [32]);`);
        this.w(`const int64_t _rows = ${this.prod(s.rows)};`);
        this.w('for (int64_t _row = blockIdx.x; _row < _rows; _row += gridDim.x) {');
        this.rowwiseBody(s, 'block');
        this.warpRows(`${k.name}_warp`, s.rows);
        this.rowwiseBody(s, 'warp');
        const warpGrid = `(unsigned)mae_blocks(_work, ${T / 32}, 1 << 20)`;
        const vec = this.rowVec(`${k.name}_warpv`, s);
        return [
          `{ const int64_t _work = ${this.prod(s.rows)};`,
          '  if (_work > 0) {',
          // a warp per row where the rows fill every SM twice over with blocks of warps and are
          // short enough for one warp's lanes (ROW_WARP_MAX), 16 bytes a lane where they are whole
          // vectors (cuda_rowvec.ts); else a block per row
          `  if (_work >= 2 * ${T / 32} * mae_sm_count(device) && ${this.ext(s.inner.v)} <= ${ROW_WARP_MAX}) {`,
          ...(vec ? [`  if (${vec}) {`, ...launch(`${k.name}_warpv`, warpGrid, T), '  } else {'] : []),
          ...launch(`${k.name}_warp`, warpGrid, T),
          ...(vec ? ['  }'] : []),
          '  } else {',
          ...launch(k.name, '(unsigned)mae_blocks(_work, 1, 1 << 20)', T),
          '  }',
          '} }',
        ];
      }
      case 'outreduce': {
        const inner = s.vars[s.vars.length - 1]!;
        this.kernelHead(`${k.name}_thread`, T);
        this.w(`const int64_t _total = ${this.prod(s.vars)};`);
        this.w(
          'for (int64_t _f = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _f < _total; _f += (int64_t)gridDim.x * blockDim.x) {',
        );
        this.ind++;
        this.decompose(s.vars, '_f');
        s.body.forEach((b) => this.stmt(b, 'serial'));
        this.ind--;
        this.w('}');
        this.close();
        // (not for outputs along a constant axis under 32 wide: the launcher never picks it)
        const narrow = inner.extent.k === 'iconst' && inner.extent.v < 32;
        const reds = narrow ? undefined : splittable(s.body);
        const plan =
          reds && this.r.ct === 'f32' ? vectorPlan(inner, reds, (l) => this.r.dtypeOf(l.t)) : undefined;
        const wide = reds
          ? emitColsplit(
              {
                ...this.vectorCtx(),
                address: (l) => `&${l.t.name}[${this.r.offset(l.t, l.idx)}]`,
                serial: (x) => this.stmt(x, 'serial'),
                unroll: REDUCE_UNROLL,
              },
              k.name,
              s.vars,
              s.body,
              reds,
              plan,
              launch,
            )
          : undefined;
        this.kernelHead(`${k.name}_warp`, T);
        this.w(`const int64_t _total = ${this.prod(s.vars)};`);
        this.w('const int _lane = threadIdx.x & 31;');
        this.w('const int64_t _nw = (int64_t)gridDim.x * (blockDim.x >> 5);');
        this.w(
          'for (int64_t _f = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5; _f < _total; _f += _nw) {',
        );
        this.ind++;
        this.decompose(s.vars, '_f');
        s.body.forEach((b) => this.stmt(b, 'warp'));
        this.ind--;
        this.w('}');
        this.close();
        return [
          `{ const int64_t _work = ${this.prod(s.vars)};`,
          '  if (_work > 0) {',
          // outputs along a contiguous axis: a thread each when they fill two waves of blocks, else
          // a thread each over slices of the rows, their partials combined by a second kernel
          // (cuda_colsplit.ts); otherwise a warp per output
          `  if (${this.ext(inner)} >= 32 && _work >= 2 * ${T} * mae_sm_count(device)) {`,
          ...launch(`${k.name}_thread`, `(unsigned)mae_blocks(_work, ${T}, 1 << 20)`, T, true),
          ...(wide ? [`  } else if (${this.ext(inner)} >= 32) {`, ...wide] : []),
          '  } else {',
          ...launch(`${k.name}_warp`, `(unsigned)mae_blocks(_work, ${T / 32}, 1 << 20)`, T),
          '  }',
          '} }',
        ];
      }
      case 'contraction': {
        const ctx: GemmCtx = {
          w: (x) => this.w(x),
          indent: (d) => {
            this.ind += d;
          },
          ext: (v) => this.ext(v),
          prod: (v) => this.prod(v),
          decompose: (v, f, u) => this.decompose(v, f, u),
          value: (n: Node) => this.r.value(n),
          valueWith: (n, loads) => this.valueWith(n, loads),
          addressOf: (n) => `&${n.t.name}[${this.r.offset(n.t, n.idx)}]`,
          address: (t, idx) => `&${t.name}[${this.r.offset(t, idx)}]`,
          epilogue: () => s.epilogue.forEach((b) => this.stmt(b, 'serial')),
          args: this.args,
          ctype: this.r.ctype,
        };
        const bf16 = [s.a, s.b].every(
          (n) => n.k === 'load' && resolveDType(n.t.dtype, this.variant) === 'bf16',
        );
        const dims = [
          `  const int64_t _BATCH = ${this.prod(s.batch)}, _M = ${this.ext(s.m)}, _N = ${this.ext(s.n)};`,
          '  if (_BATCH > 0 && _M > 0 && _N > 0) {',
          '  const int64_t _zmax = mae_max_grid_z(device);',
          '  const unsigned _gz = (unsigned)(_BATCH < _zmax ? _BATCH : _zmax);',
          // grid.y counts 64-row tiles (or 128): CUDA allows 65535
          '  if ((_M + 63) / 64 > 65535) return mae_fail("%s: %lld rows are more than a GEMM grid covers (65535 tiles of 64)", OP, (long long)_M);',
        ];
        if (!bf16) {
          emitSimtKernel(ctx, s, `${k.name}_simt`, this.r.ctype);
          return [
            '{',
            ...dims,
            ...launch(
              `${k.name}_simt`,
              'dim3((unsigned)((_N + 63) / 64), (unsigned)((_M + 63) / 64), _gz)',
              256,
            ),
            '} }',
          ];
        }
        const [small, large] = MMA_CONFIGS as [MmaConfig, MmaConfig];
        const [da, db] = [directOperand(s, 'a'), directOperand(s, 'b')];
        const async = da && db ? [da, db] : undefined;
        const tile = (cfg: MmaConfig) => {
          const name = `${k.name}_mma${cfg.BM}x${cfg.BN}`;
          emitMmaKernel(ctx, s, name, cfg);
          const grid = `dim3((unsigned)((_N + ${cfg.BN - 1}) / ${cfg.BN}), (unsigned)((_M + ${cfg.BM - 1}) / ${cfg.BM}), _gz)`;
          const plain = launch(name, grid, 32 * cfg.WM * cfg.WN);
          if (!async) return plain;
          emitMmaAsyncKernel(ctx, s, `${name}_async`, cfg);
          return [
            '  if (_async) {',
            ...launch(`${name}_async`, grid, 32 * cfg.WM * cfg.WN),
            '  } else {',
            ...plain,
            '  }',
          ];
        };
        // the asynchronous kernels copy 16-byte chunks: each operand's contiguous dimension a
        // multiple of 8 elements, its tensor 16-byte aligned
        const asyncOk = async
          ? [
              `  const bool _async = ${async
                .map(
                  (d) =>
                    `(${this.r.dim(d.contiguous)}) % 8 == 0 && reinterpret_cast<uintptr_t>(${d.load.t.name}_k) % 16 == 0`,
                )
                .join(' && ')};`,
            ]
          : [];
        const [smallLaunch, largeLaunch] = [tile(small), tile(large)];
        const split = async ? this.splitK(k.name, s, ctx, large, launch) : [];
        // the large tile when it still gives at least two waves of blocks on this device; else, for one
        // sample with a long k, the large tile over slices of k (split-K); else the small tile
        const wgmma = async ? this.wgmma(k.name, s, ctx, async as [DirectOperand, DirectOperand]) : [];
        return [
          '{',
          ...dims,
          ...asyncOk,
          ...wgmma,
          `  const int64_t _tiles = ((_M + ${large.BM - 1}) / ${large.BM}) * ((_N + ${large.BN - 1}) / ${large.BN});`,
          '  if (_BATCH * _tiles >= 2 * mae_sm_count(device)) {',
          ...largeLaunch,
          ...split,
          '  } else {',
          ...smallLaunch,
          '  }',
          ...(async ? ['  }'] : []),
          '} }',
        ];
      }
      case 'none':
        throw new TypeError(`${this.op.name}: ${k.name} has no CUDA schedule: ${s.why}`);
    }
  }

  /**
   * The split-K branch of a contraction's launcher (`} else if (...) {` and its launches): one sample,
   * both operands for the asynchronous kernels, and at least two slices of k of SPLIT.MIN_TILES k
   * tiles each; as many slices (up to SPLIT.MAX) as fill two waves of the large tile.
   */
  private splitK(
    name: string,
    s: Contraction,
    ctx: GemmCtx,
    cfg: MmaConfig,
    launch: (name: string, grid: string, block: number | string, flat?: boolean, extra?: string) => string[],
  ): string[] {
    const split = `${name}_mma${cfg.BM}x${cfg.BN}_split`;
    emitMmaSplitKernels(ctx, s, split, cfg);
    const kt = `(${this.prod(s.kvars)} + ${cfg.BK - 1}) / ${cfg.BK}`;
    return [
      `  } else if (_async && _BATCH == 1 && mae_split_k(_tiles, ${kt}, mae_sm_count(device), ${SPLIT.MAX}, ${SPLIT.MIN_TILES}) >= 2) {`,
      `  const int64_t _KT = ${kt}, _want = mae_split_k(_tiles, _KT, mae_sm_count(device), ${SPLIT.MAX}, ${SPLIT.MIN_TILES});`,
      `  const int64_t _KS = (_KT + _want - 1) / _want * ${cfg.BK}, _S = (_KT * ${cfg.BK} + _KS - 1) / _KS;`,
      '  void* _wsp = nullptr;',
      '  if (mae_cuda_workspace(device, stream, (size_t)(_S * _M * _N) * sizeof(float), &_wsp, OP)) return MAE_ERROR;',
      '  float* const _ws = static_cast<float*>(_wsp);',
      ...launch(
        split,
        // x: (slice, n tile), the slices independent of the device's grid z limit
        `dim3((unsigned)(_S * ((_N + ${cfg.BN - 1}) / ${cfg.BN})), (unsigned)((_M + ${cfg.BM - 1}) / ${cfg.BM}), 1)`,
        32 * cfg.WM * cfg.WN,
        false,
        ', _ws, _KS',
      ),
      ...launch(
        `${split}_reduce`,
        `(unsigned)mae_blocks(_M * _N, ${SPLIT_REDUCE_THREADS}, 1 << 20)`,
        SPLIT_REDUCE_THREADS,
        true,
        ', _ws, _S',
      ),
    ];
  }

  /**
   * The sm_90a branch of a contraction's launcher (`if (...) { ... } else {`, closed after the
   * mma.sync launches): on a device that takes wgmma (mae_wgmma_enabled), for samples that fit the
   * grid's z (one block per tile and sample; the mma.sync kernels loop beyond), the operands' TMA maps
   * (dims {contiguous, other, batch}; boxes of 64 x 64 rows of A, 64 x B's part of its rows, or
   * 64 x 64 for an operand contiguous along its rows) and the persistent wgmma kernel over every
   * tile, in clusters along m that share B's tiles and along n that share A's (gemm_wgmma.cuh), or
   * for one sample whose tiles do not fill the GPU,
   * split-K over slices of k summed by the mma kernels' reduce.
   */
  private wgmma(
    name: string,
    s: Contraction,
    ctx: GemmCtx,
    ops: readonly [DirectOperand, DirectOperand],
  ): string[] {
    const kernel = `${name}_wgmma`;
    const vec = epilogueVecPlan(s, (t) => this.r.dtypeOf(t));
    emitWgmmaKernels(ctx, s, kernel, vec);
    const map = (v: string, d: DirectOperand, rows: string, row: IndexVar) => {
      const dims = d.load.t.dims.map((x) => `(uint64_t)(${this.r.dim(x)})`);
      const batch = dims.slice(0, -2).join(' * ') || '(uint64_t)1';
      const rowMajor = rowContiguous(d.load, row);
      return `  if (mae_tma_map_3d(&${v}, ${d.load.t.name}_k, ${dims.at(-1)}, ${dims.at(-2)}, ${batch}, 64, ${rowMajor ? 64 : rows}, OP)) return MAE_ERROR;`;
    };
    const kt = `(${this.prod(s.kvars)} + ${WGMMA.BK - 1}) / ${WGMMA.BK}`;
    const attr = (k: string) => [
      `  { const cudaError_t _e = cudaFuncSetAttribute(reinterpret_cast<const void*>(${k}), cudaFuncAttributeMaxDynamicSharedMemorySize, (int)MAE_WG_SMEM);`,
      '    if (_e != cudaSuccess) return mae_fail("%s: cannot allow %zu bytes of shared memory: %s", OP, MAE_WG_SMEM, cudaGetErrorString(_e)); }',
    ];
    // in clusters of _wcc CTAs (_wcl along m by _wcn along n), `blocks` of them in the grid's y
    const launch = (k: string, blocks: string, extra: string) => [
      `  MAE_LAUNCH_CLUSTER(${k}, dim3(1, (unsigned)_wcc, 1), dim3(1, (unsigned)(${blocks}), 1), ${WGMMA.THREADS}, MAE_WG_SMEM, _st, ${this.launchArgs}, _ta, _tb${extra});`,
      '  if (mae_launched(OP)) return MAE_ERROR;',
    ];
    // the persistent kernel: one cluster per _wcc SMs (as many as the device holds at once), at most
    // one per cluster tile (MAE_WG_PERSISTENT=0: one per cluster tile)
    const persistent = (k: string, extra: string) => [
      ...attr(k),
      '  const int64_t _wsms = mae_wg_sms(mae_sm_count(device));',
      '  if (_wsms < 1) return mae_fail("%s: MAE_WG_SMS must be a positive integer", OP);',
      '  const int _wpers = mae_wg_persistent();',
      '  if (_wpers < 0) return mae_fail("%s: MAE_WG_PERSISTENT must be 0 or 1", OP);',
      '  static std::atomic<int> _wact[64][4];',
      `  const int64_t _wG = mae_wg_clusters(_wct, _wsms, _wcc, mae_wg_active(${k}, _wact, device, _wcc), _wpers != 0);`,
      ...launch(k, '_wG * _wcc', extra),
    ];
    return [
      '  const int _wg = _async ? mae_wgmma_enabled(device) : 0;',
      '  if (_wg < 0) return mae_fail("%s: MAE_CUDA_GEMM must be auto, wgmma or mma", OP);',
      '  if (_wg > 0 && _BATCH <= _zmax) {',
      '  const int64_t _wcl = mae_wg_cluster(_M);',
      '  if (_wcl < 1) return mae_fail("%s: MAE_WG_CLUSTER must be 1, 2 or 4", OP);',
      '  const int64_t _wcn = mae_wg_cluster_n(_N, _wcl), _wcc = _wcl * _wcn;',
      '  if (_wcn < 1) return mae_fail("%s: MAE_WG_CLUSTER_N must be 1 or 2", OP);',
      '  MaeTmaMap _ta, _tb;',
      map('_ta', ops[0], '64', s.m),
      map('_tb', ops[1], 'MAE_WG_BN / MAE_WG_B_PARTS', s.n),
      // the blocks of one sample (a CTA per tile, padded to whole clusters: split-K's choice), and the
      // cluster tiles of all
      `  const int64_t _wtiles = (_M + MAE_WG_BM * _wcl - 1) / (MAE_WG_BM * _wcl) * ((_N + ${WGMMA.BN} * _wcn - 1) / (${WGMMA.BN} * _wcn)) * _wcc;`,
      `  const int64_t _wct = _wtiles / _wcc * _BATCH, _WKT = ${kt};`,
      `  const int64_t _wsplit = _BATCH == 1 ? mae_split_k_waves(_wtiles, _WKT, mae_sm_count(device), ${SPLIT.MAX}, ${WGMMA.MIN_TILES}) : 1;`,
      '  if (_wsplit >= 2) {',
      `  const int64_t _KS = (_WKT + _wsplit - 1) / _wsplit * ${WGMMA.BK}, _S = (_WKT * ${WGMMA.BK} + _KS - 1) / _KS;`,
      '  void* _wsp = nullptr;',
      '  if (mae_cuda_workspace(device, stream, (size_t)(_S * _M * _N) * sizeof(float), &_wsp, OP)) return MAE_ERROR;',
      '  float* const _ws = static_cast<float*>(_wsp);',
      ...attr(`${kernel}_split`),
      ...launch(`${kernel}_split`, '_S * _wtiles', ', _ws, _KS, (int)_wcn'),
      `  MAE_LAUNCH_FLAT(${name}_mma${MMA_CONFIGS[1]!.BM}x${MMA_CONFIGS[1]!.BN}_split_reduce, (unsigned)mae_blocks(_M * _N, ${SPLIT_REDUCE_THREADS}, 1 << 20), ${SPLIT_REDUCE_THREADS}, 0, _st, ${this.launchArgs}, _ws, _S);`,
      '  if (mae_launched(OP)) return MAE_ERROR;',
      '  } else {',
      // the epilogue's 16-byte form where n and the tensors along it are whole aligned vectors
      ...(vec
        ? [`  const int _wvec = ${wholeVectors(this.vectorCtx(), ['_N'], vec.tensors, vec.width)};`]
        : []),
      ...persistent(kernel, vec ? ', _BATCH, (int)_wcn, _wvec' : ', _BATCH, (int)_wcn'),
      '  }',
      '  } else {',
    ];
  }

  emit(): string {
    this.lines = [];
    const launcher: string[] = [];
    const prefix = kernelName(this.op, 'cuda', this.variant);
    if (this.op.template) {
      const t = cudaTemplate(this.op).emit(templateCtx(this.op, this.variant, this.r), prefix);
      this.lines.push(t.kernels);
      launcher.push(...t.launch);
    } else
      for (const k of lowerOp(this.op))
        launcher.push(...this.kernel({ ...k, name: k.name.replace(this.op.name, prefix) }));
    const kernels = this.lines;
    const v = this.variant;
    const ct = computeDType(this.op, v) === 'f64' ? 'double' : 'float';
    const hostArgs = kernelArgs(this.op, v, (d) => CPU_STORAGE[d], 'double');
    const casts = [
      ...[...this.op.outputs, ...this.op.inputs].map((t) => {
        const c = t.role === 'in' ? 'const ' : '';
        const st = this.r.storage(resolveDType(t.dtype, v));
        return `  ${c}${st}* ${t.name}_k = reinterpret_cast<${c}${st}*>(${t.name});`;
      }),
      ...this.op.params.map((p) => `  const ${ct} ${p.name}_k = (${ct})${p.name};`),
    ];
    const body = launcher.join('\n');
    return [
      ...kernels,
      '',
      `mae_status ${kernelName(this.op, 'cuda', v)}(${[...hostArgs.map((a) => a.decl), 'int device', 'void* stream'].join(', ')}) {`,
      `  const char* const OP = "${this.op.name}";`,
      '  if (mae_use_device(device, OP)) return MAE_ERROR;',
      '  cudaStream_t _st = static_cast<cudaStream_t>(stream);',
      ...casts,
      body,
      '  return MAE_OK;',
      '}',
      '',
    ].join('\n');
  }
}

export function emitCudaFile(ops: readonly OpDef[]): string {
  const out = [
    `// ${GENERATED_BY('CUDA kernels')}`,
    '// Every op variant as CUDA kernels and a launcher; built for sm_80 and sm_90a.',
    PRELUDE,
  ];
  const shared = new Set<string>();
  for (const op of ops) {
    const common = op.template && cudaTemplate(op).shared;
    if (common && !shared.has(common.key)) {
      shared.add(common.key);
      out.push(common.text);
    }
    out.push(`// ---- ${op.name}: ${op.doc}`);
    for (const v of cudaVariants(op)) out.push(new CudaEmitter(op, v).emit());
  }
  return out.join('\n');
}
