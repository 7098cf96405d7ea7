// cpu_flash.test.ts: the CPU attention kernels call the templates of native/src/cpu/cpu_flash.h
// with strides derived from the ops' declared shapes (contiguousStrides), not assumed: the emitted
// calls for each variant, and, compiled and run, an op declaring other layouts (qkv [N, 3, H, T, E],
// out and dout [N, H, T, E], lse [H, N, T]) giving bit for bit the results of attention_forward and
// attention_backward, permuted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitCpuOp } from '../../src/emit/cpu.js';
import { contiguousStrides } from '../../src/emit/signature.js';
import { type Ex, exp, log, loop, maxOver, select, sum } from '../../src/ir/expr.js';
import { op } from '../../src/ir/op.js';
import { assign } from '../../src/ir/tensor.js';
import { attention_backward, attention_forward } from '../../src/ops/flash.js';

const CPU_DIR = fileURLToPath(new URL('../../../native/src/cpu', import.meta.url));
const FLOATS = ['f32', 'bf16', 'f64'] as const;
const TEMPLATE = { cpu: 'flash_forward', cuda: 'flash_forward' } as const;

/** attention_forward with the heads before the tokens: qkv [N, 3, H, T, E], out [N, H, T, E], lse [H, N, T]. */
const headsFirstForward = op('heads_first_forward', 'attention_forward on heads-first layouts')
  .typeVar('T', FLOATS)
  .output('out', '$T', ['N', 'H', 'T', 'E'])
  .output('lse', 'acc:$T', ['H', 'N', 'T'])
  .input('qkv', '$T', ['N', 3, 'H', 'T', 'E'])
  .param('scale')
  .template(TEMPLATE)
  .define(({ out, lse, qkv }, { N, T, H, E }, { scale }) => {
    const [n, t, h, e] = [loop('n', N), loop('t', T), loop('h', H), loop('e', E)];
    const [j, c] = [loop('j', T), loop('c', E)];
    const score = (key: Ex) => sum([c], qkv.at(n, 0, h, t, c).mul(qkv.at(n, 1, h, key, c))).mul(scale);
    const mx = maxOver([j], score(j));
    const z = sum([j], exp(score(j).sub(mx)));
    return [
      assign(out, [n, h, t, e], sum([j], exp(score(j).sub(mx)).mul(qkv.at(n, 2, h, j, e))).div(z)),
      assign(lse, [h, n, t], mx.add(log(z))),
    ];
  });

/** attention_backward on the same layouts (dqkv as qkv, dout as out). */
const headsFirstBackward = op('heads_first_backward', 'attention_backward on heads-first layouts')
  .typeVar('T', FLOATS)
  .output('dqkv', '$T', ['N', 3, 'H', 'T', 'E'])
  .input('dout', '$T', ['N', 'H', 'T', 'E'])
  .input('qkv', '$T', ['N', 3, 'H', 'T', 'E'])
  .input('out', '$T', ['N', 'H', 'T', 'E'])
  .input('lse', 'acc:$T', ['H', 'N', 'T'])
  .param('scale')
  .template({ cpu: 'flash_backward', cuda: 'flash_backward' })
  .define(({ dqkv, dout, qkv, out, lse }, { N, T, H, E }, { scale }) => {
    const [n, t, s, h, e] = [loop('n', N), loop('t', T), loop('s', 3), loop('h', H), loop('e', E)];
    const [i, j, c] = [loop('i', T), loop('j', T), loop('c', E)];
    const dsum = (qr: Ex) => sum([c], dout.at(n, h, qr, c).mul(out.at(n, h, qr, c)));
    const p = (qr: Ex, kr: Ex) =>
      exp(
        sum([c], qkv.at(n, 0, h, qr, c).mul(qkv.at(n, 1, h, kr, c)))
          .mul(scale)
          .sub(lse.at(h, n, qr)),
      );
    const dp = (qr: Ex, kr: Ex) => sum([c], dout.at(n, h, qr, c).mul(qkv.at(n, 2, h, kr, c)));
    const ds = (qr: Ex, kr: Ex) => p(qr, kr).mul(dp(qr, kr).sub(dsum(qr)));
    const dq = sum([j], ds(t, j).mul(qkv.at(n, 1, h, j, e))).mul(scale);
    const dk = sum([i], ds(i, t).mul(qkv.at(n, 0, h, i, e))).mul(scale);
    const dv = sum([i], p(i, t).mul(dout.at(n, h, i, e)));
    return assign(dqkv, [n, s, h, t, e], select(s.eq(0), dq, select(s.eq(1), dk, dv)));
  });

const ref = (o: typeof attention_forward, dt: string) => emitCpuOp(o, o.variants.find((v) => v.T === dt)!);

describe('CPU flash templates (native/src/cpu/cpu_flash.h)', function () {
  this.timeout(120000);

  it('contiguousStrides: each dimension strides over the product of the later ones', () => {
    assert.deepEqual(contiguousStrides(attention_forward, 'qkv'), [
      'T * (int64_t)3 * H * E',
      '(int64_t)3 * H * E',
      'H * E',
      'E',
      '(int64_t)1',
    ]);
    assert.deepEqual(contiguousStrides(attention_forward, 'out'), ['T * H * E', 'H * E', 'E', '(int64_t)1']);
    assert.deepEqual(contiguousStrides(attention_backward, 'lse'), ['H * T', 'T', '(int64_t)1']);
    assert.deepEqual(
      contiguousStrides(attention_forward, 'lse', (d) => `s_${d}`),
      ['s_H * s_T', 's_T', 's_1'],
    );
    assert.throws(() => contiguousStrides(attention_forward, 'dqkv'), /attention_forward has no tensor dqkv/);
  });

  it('calls the templates with the formats, the compute type and the strides of the declared shapes', () => {
    const fwd = ref(attention_forward, 'bf16');
    assert.ok(fwd.includes('const float scale_c = (float)scale;'));
    assert.ok(
      fwd.includes(
        '_ly.qkv_n = T * (int64_t)3 * H * E; _ly.qkv_t = (int64_t)3 * H * E; _ly.qkv_part = H * E; _ly.qkv_h = E;',
      ),
    );
    assert.ok(fwd.includes('_ly.out_n = T * H * E; _ly.out_t = H * E; _ly.out_h = E;'));
    assert.ok(fwd.includes('_ly.lse_n = H * T; _ly.lse_h = T;'));
    assert.ok(
      fwd.includes(
        'mae_flash_forward_cpu<mae_cpu_bf16, mae_cpu_f32, float>(out, lse, qkv, scale_c, N, T, H, E, _ly);',
      ),
    );
    assert.ok(!fwd.includes('3 * H * E;\n') && !fwd.includes('_rs'), 'no stride but the layout');
    assert.ok(
      ref(attention_forward, 'f32').includes(
        'mae_flash_forward_cpu<mae_cpu_f32, mae_cpu_f32, float>(out, lse, qkv',
      ),
    );
    assert.ok(
      ref(attention_backward, 'f64').includes(
        'mae_flash_backward_cpu<mae_cpu_f64, mae_cpu_f64, double>(dqkv, dout, qkv, out, lse, scale_c, N, T, H, E, _ly);',
      ),
    );
    // another declared layout: other strides into the same template, the sizes passed by name
    const other = ref(headsFirstForward, 'f32');
    assert.ok(
      other.includes('(float* out, float* lse, const float* qkv, double scale, int64_t N, int64_t H,'),
    );
    assert.ok(
      other.includes(
        '_ly.qkv_n = (int64_t)3 * H * T * E; _ly.qkv_t = E; _ly.qkv_part = H * T * E; _ly.qkv_h = T * E;',
      ),
    );
    assert.ok(other.includes('_ly.out_n = H * T * E; _ly.out_t = E; _ly.out_h = T * E;'));
    assert.ok(other.includes('_ly.lse_n = T; _ly.lse_h = N * T;'));
    assert.ok(other.includes('(out, lse, qkv, scale_c, N, T, H, E, _ly);'));
  });

  it('refuses a layout the template cannot take', () => {
    const tokensLast = op('tokens_last', 'x')
      .typeVar('T', ['f32'])
      .output('out', '$T', ['N', 'T', 'H', 'E'])
      .output('lse', 'acc:$T', ['N', 'T', 'H'])
      .input('qkv', '$T', ['N', 'T', 3, 'H', 'E'])
      .param('scale')
      .template(TEMPLATE)
      .define(({ out, lse, qkv }, { N, T, H, E }) => {
        const [n, t, h, e] = [loop('n', N), loop('t', T), loop('h', H), loop('e', E)];
        return [
          assign(out, [n, t, h, e], qkv.at(n, t, 0, h, e)),
          assign(lse, [n, t, h], qkv.at(n, t, 0, h, 0)),
        ];
      });
    assert.throws(() => emitCpuOp(tokensLast, { T: 'f32' }), /needs lse over N, H, T with T last/);
  });

  it('computes on another declared layout exactly what it computes on the ops own, permuted', function () {
    const cxx = ['c++', 'g++', 'clang++'].find((c) => spawnSync(c, ['--version']).status === 0);
    if (!cxx) this.skip();
    const kernels = FLOATS.flatMap((dt) => [
      ref(attention_forward, dt),
      ref(attention_backward, dt),
      ref(headsFirstForward, dt),
      ref(headsFirstBackward, dt),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'mae-flash-'));
    writeFileSync(join(dir, 'flash.cpp'), program(kernels.join('\n\n')));
    const exe = join(dir, 'flash');
    const c = spawnSync(
      cxx!,
      ['-O2', '-fopenmp', '-std=c++17', `-I${CPU_DIR}`, '-o', exe, join(dir, 'flash.cpp')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(c.status, 0, c.stderr);
    // (a time limit: a wrong stride writes out of bounds, and a corrupted heap can hang OpenMP)
    const r = spawnSync(exe, {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '2' },
      timeout: 60000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), ['f32', 'bf16', 'f64'].map((dt) => `${dt} same`).join('\n'));
  });
});

/** The emitted kernels, run on random inputs in both layouts (sizes with partial chunks of 8). */
function program(kernels: string): string {
  return String.raw`#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "cpu_flash.h"
#define MAE_CPU_FN(name) name
${kernels}

const int64_t N = 2, T = 37, H = 3, E = 20;
// index of [n, t, p, h, e] in qkv [N, T, 3, H, E] and in [N, 3, H, T, E]; of [n, t, h, e] in
// out [N, T, H, E] and [N, H, T, E]; of [n, h, t] in lse [N, H, T] and [H, N, T]
int64_t q0(int64_t n, int64_t t, int64_t p, int64_t h, int64_t e) { return (((n * T + t) * 3 + p) * H + h) * E + e; }
int64_t q1(int64_t n, int64_t t, int64_t p, int64_t h, int64_t e) { return (((n * 3 + p) * H + h) * T + t) * E + e; }
int64_t o0(int64_t n, int64_t t, int64_t h, int64_t e) { return ((n * T + t) * H + h) * E + e; }
int64_t o1(int64_t n, int64_t t, int64_t h, int64_t e) { return ((n * H + h) * T + t) * E + e; }
int64_t l0(int64_t n, int64_t h, int64_t t) { return (n * H + h) * T + t; }
int64_t l1(int64_t n, int64_t h, int64_t t) { return (h * N + n) * T + t; }

template <class S, class A, class F0, class F1, class B0, class B1>
bool same(S (*enc)(double), F0 f0, F1 f1, B0 b0, B1 b1) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-2, 2);
  const int64_t nq = N * T * 3 * H * E, no = N * T * H * E, nl = N * H * T;
  std::vector<S> qkv0(nq), qkv1(nq), out0(no), out1(no), dout0(no), dout1(no), dqkv0(nq), dqkv1(nq);
  std::vector<A> lse0(nl), lse1(nl);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t e = 0; e < E; ++e) {
          for (int64_t p = 0; p < 3; ++p) qkv0[q0(n, t, p, h, e)] = qkv1[q1(n, t, p, h, e)] = enc(u(rng));
          dout0[o0(n, t, h, e)] = dout1[o1(n, t, h, e)] = enc(u(rng));
        }
  f0(out0.data(), lse0.data(), qkv0.data(), 0.3, N, T, H, E);
  f1(out1.data(), lse1.data(), qkv1.data(), 0.3, N, H, T, E);
  b0(dqkv0.data(), dout0.data(), qkv0.data(), out0.data(), lse0.data(), 0.3, N, T, H, E);
  b1(dqkv1.data(), dout1.data(), qkv1.data(), out1.data(), lse1.data(), 0.3, N, H, T, E);
  bool ok = true;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h) {
        ok = ok && std::memcmp(&lse0[l0(n, h, t)], &lse1[l1(n, h, t)], sizeof(A)) == 0;
        for (int64_t e = 0; e < E; ++e) {
          ok = ok && std::memcmp(&out0[o0(n, t, h, e)], &out1[o1(n, t, h, e)], sizeof(S)) == 0;
          for (int64_t p = 0; p < 3; ++p)
            ok = ok && std::memcmp(&dqkv0[q0(n, t, p, h, e)], &dqkv1[q1(n, t, p, h, e)], sizeof(S)) == 0;
        }
      }
  return ok;
}
float enc_f32(double v) { return (float)v; }
uint16_t enc_bf16(double v) { return mae_f32_to_bf16((float)v); }
double enc_f64(double v) { return v; }

int main() {
  std::printf("f32 %s\n", same<float, float>(enc_f32, attention_forward_cpu_f32, heads_first_forward_cpu_f32,
      attention_backward_cpu_f32, heads_first_backward_cpu_f32) ? "same" : "differs");
  std::printf("bf16 %s\n", same<uint16_t, float>(enc_bf16, attention_forward_cpu_bf16, heads_first_forward_cpu_bf16,
      attention_backward_cpu_bf16, heads_first_backward_cpu_bf16) ? "same" : "differs");
  std::printf("f64 %s\n", same<double, double>(enc_f64, attention_forward_cpu_f64, heads_first_forward_cpu_f64,
      attention_backward_cpu_f64, heads_first_backward_cpu_f64) ? "same" : "differs");
  return 0;
}
`;
}
