// gemm.ts: `mae-cuda bench-gemm`'s measurement: the three matrix products of a linear layer on the
// CPU, in f32, at one shape (M tokens, N output features, K input features): the forward
// (linear_forward, x [M, K] times weight [N, K] transposed, bias fused), the input gradient
// (matmul_nn, dy [M, N] times weight [N, K]) and the weight gradient (matmul_tn, dy^T [N, M] times
// x [M, K]). Each is run once to warm up, then `reps` times; the best time gives GFLOP/s (2MNK).
import { freeAfter, ops, Tensor } from '@mae-cuda/native';

export interface GemmShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

export type GemmProduct = 'forward' | 'input grad' | 'weight grad';

export interface GemmTiming {
  readonly product: GemmProduct;
  readonly op: string;
  readonly ms: number;
  readonly gflops: number;
}

/** Fresh values in [-0.5, 0.5) (a fixed pattern: the rate does not depend on them). */
function filled(shape: number[]): Tensor<'f32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (((i * 2654435761) >>> 0) % 1000) / 1000 - 0.5;
  return Tensor.fromArray('f32', shape, v);
}

/** The best of `reps` runs of fn, in ms, after one warm-up run. */
function best(fn: () => void, reps: number): number {
  fn();
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

/** Times the three products of a linear layer of shape `s` on the CPU. */
export function benchGemm(s: GemmShape, reps = 3): GemmTiming[] {
  const { m, n, k } = s;
  const flops = 2 * m * n * k;
  return freeAfter(
    () => {
      const x = filled([m, k]);
      const w = filled([n, k]);
      const bias = filled([n]);
      const dy = filled([m, n]);
      const y = Tensor.empty('f32', [m, n]);
      const dx = Tensor.empty('f32', [1, m, k]);
      const dw = Tensor.empty('f32', [1, n, k]);
      const runs: [GemmProduct, string, () => void][] = [
        ['forward', 'linear_forward', () => ops.linear_forward(y, x, w, bias)],
        ['input grad', 'matmul_nn', () => ops.matmul_nn(dx, dy.view([1, m, n]), w.view([1, n, k]), 1)],
        ['weight grad', 'matmul_tn', () => ops.matmul_tn(dw, dy.view([1, m, n]), x.view([1, m, k]), 1)],
      ];
      return runs.map(([product, op, fn]) => {
        const ms = best(fn, reps);
        return { product, op, ms, gflops: flops / ms / 1e6 };
      });
    },
    () => [],
  );
}
