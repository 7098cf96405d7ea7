// cpu_flash.ts: the CPU schedule templates of attention_forward and attention_backward (ops/flash.ts)
// on the qkv layout [N, T, 3, H, E] and the merged-heads layout [N, T, H, E].
// Forward: OpenMP over (n, h, query row); per row the scores over the keys, max, exp, sum and the
// weighted sum of v, in the compute type (f32, or f64 for the f64 variant); lse = max + log(sum).
// Backward: OpenMP over (n, h) (no two threads write the same dK/dV rows); per query row
// D = rowsum(dout * out), P = exp(S - lse), dS = P (dP - D), dQ written at once, dK and dV
// accumulated over the rows in per-thread buffers and written at the end.
import type { CppRenderer } from './render.js';
import type { TemplateCtx } from './templates.js';

const PAR_MIN_WORK = 32768;

function access(ctx: TemplateCtx<CppRenderer>) {
  const { r } = ctx;
  return {
    ct: r.ctype,
    ld: (t: string, off: string) => r.load(ctx.dtype(t), `${t}[${off}]`),
    st: (t: string, off: string, v: string) => `${t}[${off}] = ${r.convert(ctx.dtype(t), v)};`,
    exp: r.fn('exp'),
    log: r.fn('log'),
  };
}

export function cpuFlashForward(ctx: TemplateCtx<CppRenderer>): string[] {
  const { ct, ld, st, exp, log } = access(ctx);
  return [
    '  // flash_forward template: rows of (n, h, t); qkv rows are 3 H E apart, out rows H E',
    '  const int64_t _rs = 3 * H * E;',
    `  #pragma omp parallel if(N * H * T * T * (E + 1) >= ${PAR_MIN_WORK})`,
    '  {',
    `    std::vector<${ct}> _q((size_t)E), _acc((size_t)E), _p((size_t)T);`,
    '    #pragma omp for collapse(3) schedule(static)',
    '    for (int64_t n = 0; n < N; ++n)',
    '    for (int64_t h = 0; h < H; ++h)',
    '    for (int64_t t = 0; t < T; ++t) {',
    '      const int64_t _qo = (n * T + t) * _rs + h * E, _ko = n * T * _rs + H * E + h * E, _vo = _ko + H * E;',
    `      for (int64_t c = 0; c < E; ++c) _q[c] = ${ld('qkv', '_qo + c')};`,
    `      ${ct} _mx = (-INFINITY);`,
    '      for (int64_t j = 0; j < T; ++j) {',
    `        ${ct} _s = (${ct})0;`,
    '        #pragma omp simd reduction(+:_s)',
    `        for (int64_t c = 0; c < E; ++c) _s += _q[c] * ${ld('qkv', '_ko + j * _rs + c')};`,
    '        _s *= scale_c;',
    '        _p[j] = _s;',
    '        _mx = std::fmax(_mx, _s);',
    '      }',
    `      ${ct} _z = (${ct})0;`,
    `      for (int64_t j = 0; j < T; ++j) { _p[j] = ${exp}(_p[j] - _mx); _z += _p[j]; }`,
    `      for (int64_t e = 0; e < E; ++e) _acc[e] = (${ct})0;`,
    '      for (int64_t j = 0; j < T; ++j) {',
    `        const ${ct} _pj = _p[j];`,
    '        #pragma omp simd',
    `        for (int64_t e = 0; e < E; ++e) _acc[e] += _pj * ${ld('qkv', '_vo + j * _rs + e')};`,
    '      }',
    '      const int64_t _oo = ((n * T + t) * H + h) * E;',
    `      for (int64_t e = 0; e < E; ++e) ${st('out', '_oo + e', '_acc[e] / _z')}`,
    `      ${st('lse', '(n * H + h) * T + t', `_mx + ${log}(_z)`)}`,
    '    }',
    '  }',
  ];
}

export function cpuFlashBackward(ctx: TemplateCtx<CppRenderer>): string[] {
  const { ct, ld, st, exp } = access(ctx);
  return [
    '  // flash_backward template: one (n, h) per thread; dK, dV accumulate over the query rows',
    '  const int64_t _rs = 3 * H * E;',
    `  #pragma omp parallel if(N * H * T * T * (E + 1) >= ${PAR_MIN_WORK})`,
    '  {',
    `    std::vector<${ct}> _q((size_t)E), _do((size_t)E), _dq((size_t)E), _p((size_t)T), _ds((size_t)T);`,
    `    std::vector<${ct}> _dk((size_t)(T * E)), _dv((size_t)(T * E));`,
    '    #pragma omp for collapse(2) schedule(dynamic)',
    '    for (int64_t n = 0; n < N; ++n)',
    '    for (int64_t h = 0; h < H; ++h) {',
    '      const int64_t _ko = n * T * _rs + H * E + h * E, _vo = _ko + H * E;',
    `      std::fill(_dk.begin(), _dk.end(), (${ct})0);`,
    `      std::fill(_dv.begin(), _dv.end(), (${ct})0);`,
    '      for (int64_t i = 0; i < T; ++i) {',
    '        const int64_t _qo = (n * T + i) * _rs + h * E, _oo = ((n * T + i) * H + h) * E;',
    `        ${ct} _d = (${ct})0;`,
    '        for (int64_t c = 0; c < E; ++c) {',
    `          _q[c] = ${ld('qkv', '_qo + c')};`,
    `          _do[c] = ${ld('dout', '_oo + c')};`,
    `          _d += _do[c] * ${ld('out', '_oo + c')};`,
    '        }',
    `        const ${ct} _l = ${ld('lse', '(n * H + h) * T + i')};`,
    '        for (int64_t j = 0; j < T; ++j) {',
    `          ${ct} _s = (${ct})0, _dp = (${ct})0;`,
    '          #pragma omp simd reduction(+:_s, _dp)',
    '          for (int64_t c = 0; c < E; ++c) {',
    `            _s += _q[c] * ${ld('qkv', '_ko + j * _rs + c')};`,
    `            _dp += _do[c] * ${ld('qkv', '_vo + j * _rs + c')};`,
    '          }',
    `          _p[j] = ${exp}(_s * scale_c - _l);`,
    '          _ds[j] = _p[j] * (_dp - _d);',
    '        }',
    `        for (int64_t e = 0; e < E; ++e) _dq[e] = (${ct})0;`,
    '        for (int64_t j = 0; j < T; ++j) {',
    `          const ${ct} _pj = _p[j], _dsj = _ds[j];`,
    `          ${ct}* __restrict__ _dkj = _dk.data() + j * E;`,
    `          ${ct}* __restrict__ _dvj = _dv.data() + j * E;`,
    '          #pragma omp simd',
    '          for (int64_t e = 0; e < E; ++e) {',
    `            _dq[e] += _dsj * ${ld('qkv', '_ko + j * _rs + e')};`,
    '            _dkj[e] += _dsj * _q[e];',
    '            _dvj[e] += _pj * _do[e];',
    '          }',
    '        }',
    `        for (int64_t e = 0; e < E; ++e) ${st('dqkv', '_qo + e', '_dq[e] * scale_c')}`,
    '      }',
    '      for (int64_t j = 0; j < T; ++j)',
    '        for (int64_t e = 0; e < E; ++e) {',
    `          ${st('dqkv', '_ko + j * _rs + e', '_dk[j * E + e] * scale_c')}`,
    `          ${st('dqkv', '_vo + j * _rs + e', '_dv[j * E + e]')}`,
    '        }',
    '    }',
    '  }',
  ];
}
