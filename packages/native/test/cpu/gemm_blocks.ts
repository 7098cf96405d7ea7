// gemm_blocks.ts: run by gemm.test.ts once per build of the CPU kernels (MAE_CPU_ISA). The packed
// GEMM against a plain float64 transcription of its definition, on fresh random values at sizes
// that cross every blocking boundary of every build (more than two MB row blocks, NB column blocks
// and KB k blocks, each with a ragged tail; MR and NR tails) and at tiny ones: linear_forward (bias
// fused), and matmul in all four transpose combinations with a batch of 2 and alpha. Also products
// at most half a panel wide (the half-width micro-kernel), 64 rows (two even row blocks) and, with
// one task for two or more threads, K split into parts (mae_gemm_ksplit; a ragged last part), and a
// B over the size that stays cached read by one row block (B packed per task: mae_gemm_b_per_task;
// ragged panels and k blocks; a batch of 2; one column block, so K split on AVX-512). Prints one
// line per product and exits 1 at the first difference over 1e-5 of the result's largest value.
import * as ops from '../../generated/ops.js';
import { binding } from '../../src/binding.js';
import { Tensor } from '../../src/tensor.js';

const seed = Number(process.argv[2] ?? Date.now() % 100000);
let s = seed;
const rnd = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 2 ** 32 - 0.5;
};
const values = (n: number) => Float32Array.from({ length: n }, rnd);

/** The largest difference from `want`, over the largest |want|. */
function relErr(got: Float32Array, want: Float64Array): number {
  let d = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return d / (scale || 1);
}

function check(what: string, got: Float32Array, want: Float64Array): void {
  const e = relErr(got, want);
  console.log(`${binding.buildInfo().cpuIsa} ${what}: ${e.toExponential(2)}`);
  if (!(e <= 1e-5)) {
    console.error(`${what}: relative error ${e} over 1e-5 (seed ${seed})`);
    process.exit(1);
  }
}

function linear(M: number, N: number, K: number): void {
  const [x, w, b] = [values(M * K), values(N * K), values(N)];
  const want = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k]! * w[n * K + k]!;
      want[m * N + n] = acc + b[n]!;
    }
  const out = Tensor.empty('f32', [M, N]);
  ops.linear_forward(
    out,
    Tensor.fromArray('f32', [M, K], x),
    Tensor.fromArray('f32', [N, K], w),
    Tensor.fromArray('f32', [N], b),
  );
  check(`linear_forward ${M}x${N}x${K}`, out.toArraySync() as Float32Array, want);
}

const MATMUL: Record<string, typeof ops.matmul_nn> = {
  matmul_nn: ops.matmul_nn,
  matmul_nt: ops.matmul_nt,
  matmul_tn: ops.matmul_tn,
  matmul_tt: ops.matmul_tt,
};

function matmul(ta: boolean, tb: boolean, BT: number, M: number, N: number, K: number): void {
  const [a, b] = [values(BT * M * K), values(BT * K * N)];
  const alpha = 0.75;
  const at = (t: number, m: number, k: number) => a[t * M * K + (ta ? k * M + m : m * K + k)]!;
  const bt = (t: number, k: number, n: number) => b[t * K * N + (tb ? n * K + k : k * N + n)]!;
  const want = new Float64Array(BT * M * N);
  for (let t = 0; t < BT; t++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += at(t, m, k) * bt(t, k, n);
        want[(t * M + m) * N + n] = alpha * acc;
      }
  const name = `matmul_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`;
  const out = Tensor.empty('f32', [BT, M, N]);
  MATMUL[name]!(
    out,
    Tensor.fromArray('f32', ta ? [BT, K, M] : [BT, M, K], a),
    Tensor.fromArray('f32', tb ? [BT, N, K] : [BT, K, N], b),
    alpha,
  );
  check(`${name} ${BT}x${M}x${N}x${K}`, out.toArraySync() as Float32Array, want);
}

linear(131, 1100, 530);
linear(1, 1, 1);
linear(7, 3, 5);
for (const [ta, tb] of [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const) {
  matmul(ta, tb, 2, 127, 1093, 517);
  matmul(ta, tb, 3, 5, 7, 1);
}
linear(64, 32, 40);
linear(61, 17, 300);
matmul(true, false, 1, 30, 20, 2100);
matmul(false, false, 1, 7, 32, 1500);
matmul(true, false, 2, 13, 1031, 4300);
matmul(true, false, 1, 13, 1000, 4300);
matmul(false, false, 1, 5, 4150, 1100);
