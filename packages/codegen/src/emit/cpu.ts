// cpu.ts: the C++ emitter. Lowers each kernel's loop tree to plain loops with OpenMP over the
// outer loops and `omp simd` sum reductions (column sums inside out: a loop over the range outside,
// one over a chunk of outputs inside); contractions become a packed, register-blocked GEMM
// (the micro-kernel in native/src/cpu/cpu_gemm.h) whose epilogue is the op's remaining expression.
import type { IndexVar } from '../ir/expr.js';
import type { OpDef, Variant } from '../ir/op.js';
import { type Contraction, type Kernel, lowerOp, type Stmt } from '../lower/lower.js';
import { alongOutputs, type Reduce, splittable } from './outreduce.js';
import { CppRenderer } from './render.js';
import { kernelArgs, kernelName } from './signature.js';
import { cpuTemplate, templateCtx } from './templates.js';

const PAR_MIN_WORK = 32768;
/** Outputs per OpenMP iteration of an outreduce kernel in its column form (columns()). */
const COLUMNS = 64;
/** Inner indices per OpenMP iteration of a chunked pointwise loop (chunked()). */
const CHUNK = 1024;

export class CpuEmitter {
  readonly r: CppRenderer;
  private lines: string[] = [];
  private ind = 1;
  constructor(
    readonly op: OpDef,
    readonly variant: Variant,
  ) {
    this.r = new CppRenderer(op, variant);
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
  /** Declares vars from a flat index (row-major: last var fastest). */
  private decompose(vars: readonly IndexVar[], flat: string) {
    if (vars.length === 1) {
      this.w(`const int64_t ${vars[0]!.name} = ${flat};`);
      return;
    }
    this.w(`int64_t _rem_${vars[0]!.name} = ${flat};`);
    for (let i = vars.length - 1; i >= 0; i--) {
      const v = vars[i]!;
      if (i === 0) this.w(`const int64_t ${v.name} = _rem_${vars[0]!.name};`);
      else {
        this.w(`const int64_t ${v.name} = _rem_${vars[0]!.name} % (${this.ext(v)});`);
        this.w(`_rem_${vars[0]!.name} /= (${this.ext(v)});`);
      }
    }
  }

  /** The whole op as one C++ function calling its kernels in order. */
  emit(): string {
    const kernels = this.op.template ? [] : lowerOp(this.op);
    const ct = this.r.ctype;
    const args = kernelArgs(this.op, this.variant, (d) => this.r.storage(d), 'double');
    const out: string[] = [];
    out.push(
      `void MAE_CPU_FN(${kernelName(this.op, 'cpu', this.variant)})(${args.map((a) => a.decl).join(', ')}) {`,
    );
    for (const p of this.op.params) out.push(`  const ${ct} ${p.name}_c = (${ct})${p.name};`);
    if (this.op.template) {
      out.push(...cpuTemplate(this.op)(templateCtx(this.op, this.variant, this.r)), '}');
      return out.join('\n');
    }
    for (const k of kernels) {
      this.lines = [];
      this.ind = 1;
      this.w(`{ // ${k.name}: ${k.schedule.kind}`);
      this.ind++;
      if (k.schedule.kind === 'contraction') this.gemm(k.schedule);
      else this.generic(k);
      this.ind--;
      this.w('}');
      out.push(...this.lines);
    }
    out.push('}');
    return out.join('\n');
  }

  private generic(k: Kernel) {
    const { root } = k;
    if (k.schedule.kind === 'outreduce') {
      const { vars, body } = k.schedule;
      const reds = splittable(body);
      if (reds && alongOutputs(vars, reds)) return this.columns(vars, body, reds);
    }
    // parallelise the outer loop (collapsed with a perfectly nested second loop)
    const second =
      root.body.length === 1 && root.body[0]!.k === 'loop' ? (root.body[0] as typeof root) : undefined;
    if (second?.body.every((s) => s.k === 'let' || s.k === 'store')) return this.chunked(root, second);
    const work = `${this.ext(root.v)}${second ? ` * ${this.ext(second.v)}` : ''} * ${this.innerWork(second ?? root)}`;
    this.w(
      `#pragma omp parallel for${second ? ' collapse(2)' : ''} schedule(static) if((${work}) >= ${PAR_MIN_WORK})`,
    );
    this.stmt(root);
  }

  /**
   * Two nested loops of independent elements (lets and stores only): OpenMP over (outer index,
   * chunk of CHUNK inner indices), each chunk an `omp simd` loop. collapse(2) would give the same
   * parallelism (the outer loop may be a handful of rows, as AdamW's two parameter groups), but it
   * steps both indices together, which the compiler does not vectorise.
   */
  private chunked(root: Extract<Stmt, { k: 'loop' }>, inner: Extract<Stmt, { k: 'loop' }>) {
    const [R, C, c] = [this.ext(root.v), this.ext(inner.v), inner.v.name];
    this.w(`const int64_t _CB = ((${C}) + ${CHUNK} - 1) / ${CHUNK};`);
    this.w(`#pragma omp parallel for schedule(static) if((${R}) * (${C}) >= ${PAR_MIN_WORK})`);
    this.w(`for (int64_t _f = 0; _f < (${R}) * _CB; ++_f) {`);
    this.ind++;
    this.w(`const int64_t ${root.v.name} = _f / _CB, _c0 = (_f % _CB) * ${CHUNK};`);
    this.w(`const int64_t _c1 = std::min<int64_t>(${C}, _c0 + ${CHUNK});`);
    this.w('#pragma omp simd');
    this.w(`for (int64_t ${c} = _c0; ${c} < _c1; ++${c}) {`);
    this.ind++;
    inner.body.forEach((b) => this.stmt(b));
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
  }

  /**
   * An outreduce kernel whose outputs lie along the contiguous axis of what its reductions read (a
   * bias gradient, LayerNorm's dweight and dbias: column sums), turned inside out: OpenMP over
   * (outer outputs, chunk of COLUMNS outputs), each chunk's partial sums in an array while the
   * reduction's range is walked once, an `omp simd` loop over the chunk's outputs at each step
   * (contiguous loads, where a loop per output read one element a cache line); then the rest of the
   * body per output. Each output still sums its terms in order, whatever the threads.
   */
  private columns(vars: readonly IndexVar[], body: readonly Stmt[], reds: readonly Reduce[]) {
    const ct = this.r.ctype;
    const outer = vars.slice(0, -1);
    const last = vars[vars.length - 1]!;
    const range = reds[0]!.vars;
    this.w(
      `const int64_t _OC = ${this.prod(outer)}, _IC = ${this.ext(last)}, _CB = (_IC + ${COLUMNS - 1}) / ${COLUMNS};`,
    );
    this.w(
      `#pragma omp parallel for schedule(static) if(_OC * _IC * ${this.prod(range)} >= ${PAR_MIN_WORK})`,
    );
    this.w('for (int64_t _f = 0; _f < _OC * _CB; ++_f) {');
    this.ind++;
    this.w(`const int64_t _c0 = (_f % _CB) * ${COLUMNS}, _cn = std::min<int64_t>(${COLUMNS}, _IC - _c0);`);
    if (outer.length) this.decompose(outer, '_f / _CB');
    for (const r of reds) {
      const init = r.op === 'sum' ? `(${ct})0` : '(-INFINITY)';
      this.w(`${ct} _acc_${r.name}[${COLUMNS}];`);
      this.w(`for (int64_t _i = 0; _i < _cn; ++_i) _acc_${r.name}[_i] = ${init};`);
    }
    for (const v of range) {
      this.w(`for (int64_t ${v.name} = 0; ${v.name} < ${this.ext(v)}; ++${v.name}) {`);
      this.ind++;
    }
    this.w('#pragma omp simd');
    this.w('for (int64_t _i = 0; _i < _cn; ++_i) {');
    this.ind++;
    this.w(`const int64_t ${last.name} = _c0 + _i;`);
    for (const r of reds) {
      const [acc, v] = [`_acc_${r.name}[_i]`, this.r.value(r.body)];
      this.w(r.op === 'sum' ? `${acc} += ${v};` : `${acc} = std::fmax(${acc}, ${v});`);
    }
    this.ind--;
    this.w('}');
    for (const _ of range) {
      this.ind--;
      this.w('}');
    }
    this.w('for (int64_t _i = 0; _i < _cn; ++_i) {');
    this.ind++;
    this.w(`const int64_t ${last.name} = _c0 + _i;`);
    for (const s of body) {
      const r = reds.find((x) => x === s);
      if (r) this.w(`const ${ct} ${r.name} = _acc_${r.name}[_i];`);
      else this.stmt(s);
    }
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
  }

  /** A rough per-iteration work estimate for the OpenMP `if` clause. */
  private innerWork(l: Extract<Stmt, { k: 'loop' }>): string {
    let best = '(int64_t)1';
    for (const s of l.body) {
      if (s.k === 'loop') best = `(${this.ext(s.v)} * ${this.innerWork(s)})`;
      else if (s.k === 'reduce') best = `(${best} + ${this.prod(s.vars)})`;
    }
    return best;
  }

  private stmt(s: Stmt) {
    const r = this.r;
    switch (s.k) {
      case 'loop':
        this.w(`for (int64_t ${s.v.name} = 0; ${s.v.name} < ${this.ext(s.v)}; ++${s.v.name}) {`);
        this.ind++;
        s.body.forEach((b) => this.stmt(b));
        this.ind--;
        this.w('}');
        break;
      case 'reduce': {
        const init = s.op === 'sum' ? `(${r.ctype})0` : '(-INFINITY)';
        this.w(`${r.ctype} ${s.name} = ${init};`);
        const flat = s.vars.length > 1;
        if (s.op === 'sum') this.w(`#pragma omp simd reduction(+:${s.name})`);
        if (flat) {
          this.w(`for (int64_t _f_${s.name} = 0; _f_${s.name} < ${this.prod(s.vars)}; ++_f_${s.name}) {`);
          this.ind++;
          this.decompose(s.vars, `_f_${s.name}`);
        } else {
          const v = s.vars[0]!;
          this.w(`for (int64_t ${v.name} = 0; ${v.name} < ${this.ext(v)}; ++${v.name}) {`);
          this.ind++;
        }
        const body = r.value(s.body);
        this.w(s.op === 'sum' ? `${s.name} += ${body};` : `${s.name} = std::fmax(${s.name}, ${body});`);
        this.ind--;
        this.w('}');
        break;
      }
      case 'let':
        this.w(`const ${r.ctype} ${s.name} = ${r.value(s.value)};`);
        break;
      case 'store':
        this.w(r.store(s.t, s.idx, s.local));
        break;
    }
  }

  /**
   * A contraction as a packed, register-blocked GEMM (native/src/cpu/cpu_gemm.h): B packed into
   * panels of NR columns, once up front (or, where B is large and at most two row blocks read it,
   * by each task per KB block: mae_gemm_b_per_task); each task (batch, MB rows, NB columns) packs
   * its A rows per KB block into micro-panels of MR rows, runs the micro-kernel over them into its
   * accumulator tile, then the epilogue.
   */
  private gemm(c: Contraction) {
    const r = this.r;
    const ct = r.ctype;
    const { batch, m, n, kvars } = c;
    this.w(
      `const int64_t _BATCH = ${this.prod(batch)}, _M = ${this.ext(m)}, _N = ${this.ext(n)}, _K = ${this.prod(kvars)};`,
    );
    this.w('if (_BATCH == 0 || _M == 0 || _N == 0) return;');
    this.w(`using _Tl = mae_gemm_tiles<${ct}>;`);
    this.w('constexpr int64_t _MR = _Tl::MR, _KB = _Tl::KB, _NB = _Tl::NB;');
    this.w(`const int64_t _NR = mae_gemm_nr<${ct}>(_N);`);
    this.w(`const int64_t _MB = mae_gemm_rows<${ct}>(_M, _N, _K, mae_cpu_threads());`);
    this.w('const int64_t _NPAN = (_N + _NR - 1) / _NR;');
    this.w('const int64_t _MBLK = (_M + _MB - 1) / _MB, _NBLK = (_N + _NB - 1) / _NB;');
    this.packBFn(c);
    this.w('// B in panels of _NR columns: [batch][panel][K][_NR], packed once up front; or, where B is');
    this.w('// large and few row blocks read it (mae_gemm_b_per_task), by each task per k block');
    this.w(`const bool _BTASK = mae_gemm_b_per_task<${ct}>(_MBLK, _N, _K);`);
    this.w(`const mae_gemm_buffer<${ct}, 2> _Bbuf(_BTASK ? 0 : (size_t)(_BATCH * _NPAN * _K * _NR));`);
    this.w(`${ct}* const _Bp = _Bbuf.p;`);
    this.w(
      `#pragma omp parallel for collapse(2) schedule(static) if(!_BTASK && _BATCH * _K * _N >= ${PAR_MIN_WORK})`,
    );
    this.w('for (int64_t _bb = 0; _bb < _BATCH; ++_bb) for (int64_t _p = 0; _p < _NPAN; ++_p)');
    this.w('  if (!_BTASK) _pack_b(&_Bp[(size_t)((_bb * _NPAN + _p) * _K * _NR)], _bb, _p, 1, 0, _K);');
    this.w(`const int64_t _KS = mae_gemm_ksplit<${ct}>(_BATCH * _MBLK * _NBLK, _K, mae_cpu_threads());`);
    this.w('const int64_t _KC = _KS == 1 ? _K : ((_K + _KS - 1) / _KS + _KB - 1) / _KB * _KB;');
    this.w("// with K split: each part's sums, [batch][n block][m block][part][_MB][_NB]");
    this.w(
      `const mae_gemm_buffer<${ct}, 3> _Pbuf(_KS > 1 ? (size_t)(_BATCH * _NBLK * _MBLK * _KS * _MB * _NB) : 0);`,
    );
    this.epilogueFn(c);
    this.w(
      `#pragma omp parallel for collapse(4) schedule(dynamic) if(_BATCH * _M * _N * _K >= ${PAR_MIN_WORK})`,
    );
    this.w(
      'for (int64_t _bb = 0; _bb < _BATCH; ++_bb) for (int64_t _nb = 0; _nb < _NBLK; ++_nb) for (int64_t _mb = 0; _mb < _MBLK; ++_mb) for (int64_t _ks = 0; _ks < _KS; ++_ks) {',
    );
    this.ind++;
    if (batch.length) this.decompose(batch, '_bb');
    this.w(`${ct}* _Ap = mae_gemm_scratch<${ct}, 0>((size_t)(_MB * _KB));`);
    this.w(
      `${ct}* _acc = _KS > 1 ? &_Pbuf.p[(size_t)((((_bb * _NBLK + _nb) * _MBLK + _mb) * _KS + _ks) * _MB * _NB)] : mae_gemm_scratch<${ct}, 1>((size_t)(_MB * _NB));`,
    );
    this.w(
      'const int64_t _m0 = _mb * _MB, _mn = std::min<int64_t>(_MB, _M - _m0), _mp = (_mn + _MR - 1) / _MR;',
    );
    this.w(
      'const int64_t _n0 = _nb * _NB, _nn = std::min<int64_t>(_NB, _N - _n0), _np = (_nn + _NR - 1) / _NR;',
    );
    this.w(`std::fill(_acc, _acc + _mp * _MR * _NB, (${ct})0);`);
    this.w('const int64_t _kend = std::min<int64_t>(_K, (_ks + 1) * _KC);');
    this.w('for (int64_t _k0 = _ks * _KC; _k0 < _kend; _k0 += _KB) {');
    this.ind++;
    this.w('const int64_t _kn = std::min<int64_t>(_KB, _kend - _k0);');
    this.w('// A rows in micro-panels of _MR: [panel][kq][_MR], zero past M; read _MR rows at a time');
    this.w('for (int64_t _ip = 0; _ip < _mp; ++_ip) {');
    this.ind++;
    this.w(`${ct}* _dst = &_Ap[(size_t)(_ip * _kn * _MR)];`);
    this.w('const int64_t _rn = std::min<int64_t>(_MR, _mn - _ip * _MR);');
    this.w('for (int64_t _kq = 0; _kq < _kn; ++_kq) {');
    this.ind++;
    this.decompose(kvars, '_k0 + _kq');
    // a whole micro-panel with the constant trip count, which the compiler unrolls
    const row = (n: string) =>
      `for (int64_t _r = 0; _r < ${n}; ++_r) { const int64_t ${m.name} = _m0 + _ip * _MR + _r; _dst[_kq * _MR + _r] = ${r.value(c.a)}; }`;
    this.w(`if (_rn == _MR) ${row('_MR')}`);
    this.w(`else { ${row('_rn')} for (int64_t _r = _rn; _r < _MR; ++_r) _dst[_kq * _MR + _r] = (${ct})0; }`);
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
    this.w(`const ${ct}* _Bk; // this block's B panels, _bps apart`);
    this.w('int64_t _bps;');
    this.w('if (_BTASK) {');
    this.w(`  ${ct}* _Bt = mae_gemm_scratch<${ct}, 4>((size_t)(_NB * _KB));`);
    this.w('  _pack_b(_Bt, _bb, _n0 / _NR, _np, _k0, _kn);');
    this.w('  _Bk = _Bt, _bps = _kn * _NR;');
    this.w('} else {');
    this.w('  _Bk = &_Bp[(size_t)(((_bb * _NPAN + _n0 / _NR) * _K + _k0) * _NR)], _bps = _K * _NR;');
    this.w('}');
    this.w('for (int64_t _p = 0; _p < _np; ++_p) for (int64_t _ip = 0; _ip < _mp; ++_ip)');
    this.w(
      '  mae_gemm_micro<' +
        ct +
        '>(_NR, _kn, &_Ap[(size_t)(_ip * _kn * _MR)], _Bk + _p * _bps, &_acc[(size_t)(_ip * _MR * _NB + _p * _NR)], _NB);',
    );
    this.ind--;
    this.w('}');
    this.w('if (_KS == 1) _epilogue(_acc, _bb, _m0, _mn, _n0, _nn);');
    this.ind--;
    this.w('}');
    this.gemmJoinParts();
  }

  /** With K split (_KS > 1): each tile's parts added in order into the first, then the epilogue. */
  private gemmJoinParts() {
    const ct = this.r.ctype;
    this.w('if (_KS > 1) {');
    this.ind++;
    this.w("// the parts' sums added in order (into the first), then the epilogue");
    this.w('#pragma omp parallel for collapse(3) schedule(static)');
    this.w(
      'for (int64_t _bb = 0; _bb < _BATCH; ++_bb) for (int64_t _nb = 0; _nb < _NBLK; ++_nb) for (int64_t _mb = 0; _mb < _MBLK; ++_mb) {',
    );
    this.ind++;
    this.w(`${ct}* _acc = &_Pbuf.p[(size_t)(((_bb * _NBLK + _nb) * _MBLK + _mb) * _KS * _MB * _NB)];`);
    this.w('const int64_t _m0 = _mb * _MB, _mn = std::min<int64_t>(_MB, _M - _m0);');
    this.w('const int64_t _n0 = _nb * _NB, _nn = std::min<int64_t>(_NB, _N - _n0);');
    this.w('for (int64_t _ks = 1; _ks < _KS; ++_ks) {');
    this.w(`  const ${ct}* _part = _acc + _ks * _MB * _NB;`);
    this.w('  for (int64_t _i = 0; _i < _mn; ++_i)');
    this.w('#pragma omp simd');
    this.w('    for (int64_t _j = 0; _j < _nn; ++_j) _acc[_i * _NB + _j] += _part[_i * _NB + _j];');
    this.w('}');
    this.w('_epilogue(_acc, _bb, _m0, _mn, _n0, _nn);');
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
  }

  /**
   * B's packing as a lambda: rows k0..k0+kn of panels p0..p0+np into dst as [panel][kq][_NR], zero
   * past N; each row of B read across the panels.
   */
  private packBFn(c: Contraction) {
    const r = this.r;
    const ct = r.ctype;
    const { batch, n, kvars } = c;
    this.w(
      `const auto _pack_b = [&](${ct}* _dst, int64_t _bb, int64_t _p0, int64_t _pn, int64_t _k0, int64_t _kn) {`,
    );
    this.ind++;
    if (batch.length) this.decompose(batch, '_bb');
    else this.w('(void)_bb;');
    this.w('for (int64_t _kq = 0; _kq < _kn; ++_kq) {');
    this.ind++;
    this.decompose(kvars, '_k0 + _kq');
    this.w('for (int64_t _pp = 0; _pp < _pn; ++_pp) {');
    this.ind++;
    this.w(`${ct}* _d = &_dst[(size_t)((_pp * _kn + _kq) * _NR)];`);
    this.w('const int64_t _p = _p0 + _pp, _jn = std::min<int64_t>(_NR, _N - _p * _NR);');
    this.w(
      `for (int64_t _j = 0; _j < _jn; ++_j) { const int64_t ${n.name} = _p * _NR + _j; _d[_j] = ${r.value(c.b)}; }`,
    );
    this.w(`for (int64_t _j = _jn; _j < _NR; ++_j) _d[_j] = (${ct})0;`);
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('};');
  }

  /** The contraction's epilogue as a lambda over one accumulator tile (rows m0.., columns n0..). */
  private epilogueFn(c: Contraction) {
    const ct = this.r.ctype;
    const { batch, m, n } = c;
    this.w(
      `const auto _epilogue = [&](const ${ct}* _acc, int64_t _bb, int64_t _m0, int64_t _mn, int64_t _n0, int64_t _nn) {`,
    );
    this.ind++;
    if (batch.length) this.decompose(batch, '_bb');
    else this.w('(void)_bb;');
    this.w('for (int64_t _i = 0; _i < _mn; ++_i) for (int64_t _j = 0; _j < _nn; ++_j) {');
    this.ind++;
    this.w(`const int64_t ${m.name} = _m0 + _i, ${n.name} = _n0 + _j;`);
    this.w(`const ${ct} ${c.acc} = _acc[_i * _NB + _j];`);
    c.epilogue.forEach((s) => this.stmt(s));
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('};');
  }
}

export function emitCpuOp(op: OpDef, v: Variant): string {
  return new CpuEmitter(op, v).emit();
}
