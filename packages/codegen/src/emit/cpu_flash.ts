// cpu_flash.ts: the CPU schedule templates of attention_forward and attention_backward (ops/flash.ts)
// on the qkv layout [N, T, 3, H, E] and the merged-heads layout [N, T, H, E].
// Both: OpenMP over (n, h); each (n, h) first stages its keys and values transposed ([E][T], in
// the compute type: f32, or f64 for the f64 variant), so every inner loop runs along the T keys
// with unit stride and vectorises even for head sizes of 8 or 16.
// Forward, per query row: scores s_j = scale * q.k_j, max, p_j = exp(s_j - max), sum, out = p V /
// sum, lse = max + log(sum). Backward, per query row: D = rowsum(dout * out), P = exp(S - lse),
// dP = dout V^T, dS = P (dP - D); dQ = scale * dS K written at once; dK^T, dV^T accumulated over
// the rows in per-thread buffers and written at the end (no two threads share an (n, h)).
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

/**
 * The opening both templates share: the parallel region with the per-thread buffers (K^T and V^T,
 * then `buffers`: one std::vector declaration line each, the first continuing the K^T, V^T line),
 * the loop over (n, h) and the staging of that head's keys and values transposed. The caller
 * closes the (n, h) loop and the region.
 */
function stagedHeads(ctx: TemplateCtx<CppRenderer>, title: string, buffers: readonly string[]): string[] {
  const { ct, ld } = access(ctx);
  const [first, ...rest] = buffers;
  return [
    `  // ${title}`,
    '  const int64_t _rs = 3 * H * E;',
    `  #pragma omp parallel if(N * H * T * T * (E + 1) >= ${PAR_MIN_WORK})`,
    '  {',
    `    std::vector<${ct}> _kt((size_t)(E * T)), _vt((size_t)(E * T)), ${first};`,
    ...rest.map((b) => `    std::vector<${ct}> ${b};`),
    '    #pragma omp for collapse(2) schedule(static)',
    '    for (int64_t n = 0; n < N; ++n)',
    '    for (int64_t h = 0; h < H; ++h) {',
    '      const int64_t _ko = n * T * _rs + H * E + h * E, _vo = _ko + H * E;',
    '      for (int64_t j = 0; j < T; ++j)',
    '        for (int64_t c = 0; c < E; ++c) {',
    `          _kt[c * T + j] = ${ld('qkv', '_ko + j * _rs + c')};`,
    `          _vt[c * T + j] = ${ld('qkv', '_vo + j * _rs + c')};`,
    '        }',
  ];
}

export function cpuFlashForward(ctx: TemplateCtx<CppRenderer>): string[] {
  const { ct, ld, st, exp, log } = access(ctx);
  return [
    ...stagedHeads(
      ctx,
      'flash_forward template: per (n, h), K^T and V^T staged [E][T]; per query row along the keys',
      ['_p((size_t)T), _c((size_t)T)'],
    ),
    `      ${ct}* __restrict__ _pp = _p.data();`,
    `      ${ct}* __restrict__ _pc = _c.data();`,
    '      for (int64_t t = 0; t < T; ++t) {',
    '        const int64_t _qo = (n * T + t) * _rs + h * E;',
    '        #pragma omp simd',
    `        for (int64_t j = 0; j < T; ++j) _pp[j] = (${ct})0;`,
    '        // the dot products over the head in chunks of 8 (partial sums added), not one long chain',
    '        for (int64_t c0 = 0; c0 < E; c0 += 8) {',
    '          #pragma omp simd',
    `          for (int64_t j = 0; j < T; ++j) _pc[j] = (${ct})0;`,
    '          for (int64_t c = c0; c < std::min<int64_t>(c0 + 8, E); ++c) {',
    `            const ${ct} _qc = ${ld('qkv', '_qo + c')};`,
    `            const ${ct}* __restrict__ _kr = _kt.data() + c * T;`,
    '            #pragma omp simd',
    '            for (int64_t j = 0; j < T; ++j) _pc[j] += _qc * _kr[j];',
    '          }',
    '          #pragma omp simd',
    '          for (int64_t j = 0; j < T; ++j) _pp[j] += _pc[j];',
    '        }',
    `        ${ct} _mx = (-INFINITY);`,
    '        #pragma omp simd reduction(max:_mx)',
    '        for (int64_t j = 0; j < T; ++j) { _pp[j] *= scale_c; _mx = _pp[j] > _mx ? _pp[j] : _mx; }',
    `        ${ct} _z = (${ct})0;`,
    '        #pragma omp simd reduction(+:_z)',
    `        for (int64_t j = 0; j < T; ++j) { _pp[j] = ${exp}(_pp[j] - _mx); _z += _pp[j]; }`,
    '        const int64_t _oo = ((n * T + t) * H + h) * E;',
    '        for (int64_t e = 0; e < E; ++e) {',
    `          const ${ct}* __restrict__ _vr = _vt.data() + e * T;`,
    `          ${ct} _a = (${ct})0;`,
    '          #pragma omp simd reduction(+:_a)',
    '          for (int64_t j = 0; j < T; ++j) _a += _pp[j] * _vr[j];',
    `          ${st('out', '_oo + e', '_a / _z')}`,
    '        }',
    `        ${st('lse', '(n * H + h) * T + t', `_mx + ${log}(_z)`)}`,
    '      }',
    '    }',
    '  }',
  ];
}

export function cpuFlashBackward(ctx: TemplateCtx<CppRenderer>): string[] {
  const { ct, ld, st, exp } = access(ctx);
  return [
    ...stagedHeads(
      ctx,
      'flash_backward template: per (n, h), K^T and V^T staged [E][T]; dK^T, dV^T accumulate over the rows',
      [
        '_dkt((size_t)(E * T)), _dvt((size_t)(E * T))',
        '_q((size_t)E), _do((size_t)E), _p((size_t)T), _ds((size_t)T), _c((size_t)(2 * T))',
      ],
    ),
    `      std::fill(_dkt.begin(), _dkt.end(), (${ct})0);`,
    `      std::fill(_dvt.begin(), _dvt.end(), (${ct})0);`,
    `      ${ct}* __restrict__ _pp = _p.data();`,
    `      ${ct}* __restrict__ _dsp = _ds.data();`,
    '      for (int64_t i = 0; i < T; ++i) {',
    '        const int64_t _qo = (n * T + i) * _rs + h * E, _oo = ((n * T + i) * H + h) * E;',
    `        ${ct} _d = (${ct})0;`,
    '        for (int64_t c = 0; c < E; ++c) {',
    `          _q[c] = ${ld('qkv', '_qo + c')};`,
    `          _do[c] = ${ld('dout', '_oo + c')};`,
    `          _d += _do[c] * ${ld('out', '_oo + c')};`,
    '        }',
    `        const ${ct} _l = ${ld('lse', '(n * H + h) * T + i')};`,
    '        #pragma omp simd',
    `        for (int64_t j = 0; j < T; ++j) { _pp[j] = (${ct})0; _dsp[j] = (${ct})0; }`,
    `        ${ct}* __restrict__ _sc = _c.data();`,
    `        ${ct}* __restrict__ _pc = _c.data() + T;`,
    '        // S and dP over the head in chunks of 8 (partial sums added), not one long chain',
    '        for (int64_t c0 = 0; c0 < E; c0 += 8) {',
    '          #pragma omp simd',
    `          for (int64_t j = 0; j < T; ++j) { _sc[j] = (${ct})0; _pc[j] = (${ct})0; }`,
    '          for (int64_t c = c0; c < std::min<int64_t>(c0 + 8, E); ++c) {',
    `            const ${ct} _qc = _q[c], _dc = _do[c];`,
    `            const ${ct}* __restrict__ _kr = _kt.data() + c * T;`,
    `            const ${ct}* __restrict__ _vr = _vt.data() + c * T;`,
    '            #pragma omp simd',
    '            for (int64_t j = 0; j < T; ++j) { _sc[j] += _qc * _kr[j]; _pc[j] += _dc * _vr[j]; }',
    '          }',
    '          #pragma omp simd',
    '          for (int64_t j = 0; j < T; ++j) { _pp[j] += _sc[j]; _dsp[j] += _pc[j]; }',
    '        }',
    '        #pragma omp simd',
    '        for (int64_t j = 0; j < T; ++j) {',
    `          _pp[j] = ${exp}(_pp[j] * scale_c - _l);`,
    '          _dsp[j] = _pp[j] * (_dsp[j] - _d);',
    '        }',
    '        for (int64_t e = 0; e < E; ++e) {',
    `          const ${ct}* __restrict__ _kr = _kt.data() + e * T;`,
    `          ${ct}* __restrict__ _dkr = _dkt.data() + e * T;`,
    `          ${ct}* __restrict__ _dvr = _dvt.data() + e * T;`,
    `          const ${ct} _qe = _q[e], _de = _do[e];`,
    `          ${ct} _dq = (${ct})0;`,
    '          #pragma omp simd reduction(+:_dq)',
    '          for (int64_t j = 0; j < T; ++j) {',
    '            _dq += _dsp[j] * _kr[j];',
    '            _dkr[j] += _dsp[j] * _qe;',
    '            _dvr[j] += _pp[j] * _de;',
    '          }',
    `          ${st('dqkv', '_qo + e', '_dq * scale_c')}`,
    '        }',
    '      }',
    '      for (int64_t j = 0; j < T; ++j)',
    '        for (int64_t e = 0; e < E; ++e) {',
    `          ${st('dqkv', '_ko + j * _rs + e', '_dkt[e * T + j] * scale_c')}`,
    `          ${st('dqkv', '_vo + j * _rs + e', '_dvt[e * T + j]')}`,
    '        }',
    '    }',
    '  }',
  ];
}
