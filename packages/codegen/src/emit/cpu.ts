// cpu.ts: the C++ emitter. Lowers each kernel's loop tree to plain loops with OpenMP over the
// outer loops and `omp simd` sum reductions; contractions become a packed, blocked GEMM whose
// epilogue is the op's remaining expression.
import type { IndexVar } from '../ir/expr.js';
import type { OpDef, Variant } from '../ir/op.js';
import { type Contraction, type Kernel, lowerOp, type Stmt } from '../lower/lower.js';
import { CppRenderer } from './render.js';
import { kernelArgs, kernelName } from './signature.js';
import { cpuTemplate, templateCtx } from './templates.js';

const PAR_MIN_WORK = 32768;

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
    // parallelise the outer loop (collapsed with a perfectly nested second loop)
    const second =
      root.body.length === 1 && root.body[0]!.k === 'loop' ? (root.body[0] as typeof root) : undefined;
    const work = `${this.ext(root.v)}${second ? ` * ${this.ext(second.v)}` : ''} * ${this.innerWork(second ?? root)}`;
    this.w(
      `#pragma omp parallel for${second ? ' collapse(2)' : ''} schedule(static) if((${work}) >= ${PAR_MIN_WORK})`,
    );
    this.stmt(root);
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

  private gemm(c: Contraction) {
    const r = this.r;
    const ct = r.ctype;
    const { batch, m, n, kvars } = c;
    this.w(
      `const int64_t _BATCH = ${this.prod(batch)}, _M = ${this.ext(m)}, _N = ${this.ext(n)}, _K = ${this.prod(kvars)};`,
    );
    this.w('if (_BATCH == 0 || _M == 0 || _N == 0) return;');
    // pack B as [batch][K][N] in the compute type
    this.w(`std::vector<${ct}> _Bp((size_t)(_BATCH * _K * _N));`);
    this.w(`#pragma omp parallel for collapse(2) schedule(static) if(_BATCH * _K * _N >= ${PAR_MIN_WORK})`);
    this.w('for (int64_t _bb = 0; _bb < _BATCH; ++_bb) for (int64_t _kk = 0; _kk < _K; ++_kk) {');
    this.ind++;
    if (batch.length) this.decompose(batch, '_bb');
    this.decompose(kvars, '_kk');
    this.w(`${ct}* _dst = &_Bp[(size_t)((_bb * _K + _kk) * _N)];`);
    this.w(`for (int64_t ${n.name} = 0; ${n.name} < _N; ++${n.name}) _dst[${n.name}] = ${r.value(c.b)};`);
    this.ind--;
    this.w('}');
    this.w('const int64_t _MB = 32, _NB = 256, _KB = 128, _MBLK = (_M + _MB - 1) / _MB;');
    this.w(
      `#pragma omp parallel for collapse(2) schedule(dynamic) if(_BATCH * _M * _N * _K >= ${PAR_MIN_WORK})`,
    );
    this.w('for (int64_t _bb = 0; _bb < _BATCH; ++_bb) for (int64_t _mb = 0; _mb < _MBLK; ++_mb) {');
    this.ind++;
    if (batch.length) this.decompose(batch, '_bb');
    this.w(`alignas(64) ${ct} _Ap[32 * 128];`);
    this.w(`alignas(64) ${ct} _acc[32 * 256];`);
    this.w('const int64_t _m0 = _mb * _MB, _mn = std::min<int64_t>(_MB, _M - _m0);');
    this.w('for (int64_t _n0 = 0; _n0 < _N; _n0 += _NB) {');
    this.ind++;
    this.w('const int64_t _nn = std::min<int64_t>(_NB, _N - _n0);');
    this.w(
      `for (int64_t _i = 0; _i < _mn; ++_i) for (int64_t _j = 0; _j < _nn; ++_j) _acc[_i * _NB + _j] = (${ct})0;`,
    );
    this.w('for (int64_t _k0 = 0; _k0 < _K; _k0 += _KB) {');
    this.ind++;
    this.w('const int64_t _kn = std::min<int64_t>(_KB, _K - _k0);');
    this.w('for (int64_t _i = 0; _i < _mn; ++_i) for (int64_t _kq = 0; _kq < _kn; ++_kq) {');
    this.ind++;
    this.w(`const int64_t ${m.name} = _m0 + _i;`);
    this.decompose(kvars, '_k0 + _kq');
    this.w(`_Ap[_i * _KB + _kq] = ${r.value(c.a)};`);
    this.ind--;
    this.w('}');
    this.w(`const ${ct}* _Bb = &_Bp[(size_t)((_bb * _K + _k0) * _N + _n0)];`);
    this.w('int64_t _i = 0;');
    this.w('for (; _i + 4 <= _mn; _i += 4) {');
    this.w(
      `  ${ct}* _c0 = &_acc[_i * _NB]; ${ct}* _c1 = _c0 + _NB; ${ct}* _c2 = _c1 + _NB; ${ct}* _c3 = _c2 + _NB;`,
    );
    this.w('  for (int64_t _kq = 0; _kq < _kn; ++_kq) {');
    this.w(
      `    const ${ct} _a0 = _Ap[_i * _KB + _kq], _a1 = _Ap[(_i + 1) * _KB + _kq], _a2 = _Ap[(_i + 2) * _KB + _kq], _a3 = _Ap[(_i + 3) * _KB + _kq];`,
    );
    this.w(`    const ${ct}* __restrict__ _b = _Bb + _kq * _N;`);
    this.w('    #pragma omp simd');
    this.w(
      '    for (int64_t _j = 0; _j < _nn; ++_j) { const auto _bv = _b[_j]; _c0[_j] += _a0 * _bv; _c1[_j] += _a1 * _bv; _c2[_j] += _a2 * _bv; _c3[_j] += _a3 * _bv; }',
    );
    this.w('  }');
    this.w('}');
    this.w('for (; _i < _mn; ++_i) {');
    this.w(`  ${ct}* _c0 = &_acc[_i * _NB];`);
    this.w('  for (int64_t _kq = 0; _kq < _kn; ++_kq) {');
    this.w(`    const ${ct} _a0 = _Ap[_i * _KB + _kq]; const ${ct}* __restrict__ _b = _Bb + _kq * _N;`);
    this.w('    #pragma omp simd');
    this.w('    for (int64_t _j = 0; _j < _nn; ++_j) _c0[_j] += _a0 * _b[_j];');
    this.w('  }');
    this.w('}');
    this.ind--;
    this.w('}');
    // epilogue
    this.w('for (int64_t _i = 0; _i < _mn; ++_i) for (int64_t _j = 0; _j < _nn; ++_j) {');
    this.ind++;
    this.w(`const int64_t ${m.name} = _m0 + _i, ${n.name} = _n0 + _j;`);
    this.w(`const ${ct} ${c.acc} = _acc[_i * _NB + _j];`);
    c.epilogue.forEach((s) => this.stmt(s));
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
    this.ind--;
    this.w('}');
  }
}

export function emitCpuOp(op: OpDef, v: Variant): string {
  return new CpuEmitter(op, v).emit();
}
