// cpu_math.test.ts: mae_expf and mae_erff (the CPU kernels' vectorisable exp and erf, in
// packages/native/src/cpu/cpu_math.h) compiled as the kernels compile them (-O3, AVX2 + FMA,
// OpenMP simd), swept against f64 rounded to f32: within 1 ulp over the whole range, subnormals
// included; 0, +-1, inf and NaN where they belong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The header under test, included by its path. */
const CPU_MATH_H = fileURLToPath(new URL('../../../native/src/cpu/cpu_math.h', import.meta.url));

const PROGRAM = `#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>
#include "${CPU_MATH_H}"
static int64_t ord(float f) { int32_t i; std::memcpy(&i, &f, 4); return i < 0 ? (int64_t)INT32_MIN - i : i; }
int main() {
  const int n = 4000000;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = -110.0f + 200.0f * (float)i / (float)(n - 1);
  #pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = mae_expf(x[i]);  // the vectorised path
  int64_t worst = 0; float at = 0;
  for (int i = 0; i < n; ++i) {
    const float ref = (float)std::exp((double)x[i]);
    const int64_t d = ord(y[i]) > ord(ref) ? ord(y[i]) - ord(ref) : ord(ref) - ord(y[i]);
    if (d > worst) { worst = d; at = x[i]; }
  }
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 88.72f, 88.73f, -87.5f, -103.9f, -104.0f, 1e-8f};
  for (float s : specials) {
    const float ref = (float)std::exp((double)s), got = mae_expf(s);
    const int64_t d = ord(got) > ord(ref) ? ord(got) - ord(ref) : ord(ref) - ord(got);
    if (d > worst) { worst = d; at = s; }
  }
  std::vector<float> xe(n), ye(n);
  for (int i = 0; i < n; ++i) xe[i] = -6.0f + 12.0f * (float)i / (float)(n - 1);
  #pragma omp simd
  for (int i = 0; i < n; ++i) ye[i] = mae_erff(xe[i]);
  int64_t worst_erf = 0; float at_erf = 0;
  for (int i = 0; i < n; ++i) {
    const float ref = (float)std::erf((double)xe[i]);
    const int64_t d = ord(ye[i]) > ord(ref) ? ord(ye[i]) - ord(ref) : ord(ref) - ord(ye[i]);
    if (d > worst_erf) { worst_erf = d; at_erf = xe[i]; }
  }
  printf("%lld %.9g %lld %.9g %d %d %d %d %d %d %d\\n", (long long)worst, at, (long long)worst_erf, at_erf,
         (int)std::isnan(mae_erff(NAN)), (int)(mae_erff(INFINITY) == 1.0f), (int)(mae_erff(-INFINITY) == -1.0f),
         (int)std::isnan(mae_expf(NAN)),
         (int)(mae_expf(INFINITY) == INFINITY), (int)(mae_expf(-INFINITY) == 0.0f), (int)(mae_expf(1000.0f) == INFINITY));
  return 0;
}
`;

describe('CPU math (native/src/cpu/cpu_math.h)', function () {
  this.timeout(120000);
  it('mae_expf and mae_erff are within 1 ulp of exp on [-110, 90] and erf on [-6, 6] when vectorised, and keep 0, +-1, inf and NaN', function () {
    const cxx = ['c++', 'g++', 'clang++'].find((c) => spawnSync(c, ['--version']).status === 0);
    if (!cxx) this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'mae-expf-'));
    writeFileSync(join(dir, 'expf.cpp'), PROGRAM);
    const exe = join(dir, 'expf');
    const c = spawnSync(
      cxx!,
      [
        '-O3',
        '-fno-trapping-math',
        '-fno-math-errno',
        '-mavx2',
        '-mfma',
        '-fopenmp',
        '-o',
        exe,
        join(dir, 'expf.cpp'),
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(c.status, 0, c.stderr);
    const r = spawnSync(exe, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [ulp, at, ulpErf, atErf, ...specials] = r.stdout.trim().split(' ').map(Number);
    assert.ok(ulp! <= 1, `exp: worst error ${ulp} ulp at x = ${at}`);
    assert.ok(ulpErf! <= 1, `erf: worst error ${ulpErf} ulp at x = ${atErf}`);
    assert.deepEqual(specials, [1, 1, 1, 1, 1, 1, 1]);
  });
});
