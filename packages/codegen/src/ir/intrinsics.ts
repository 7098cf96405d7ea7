// intrinsics.ts: scalar functions the DSL cannot spell with its operators, each given three ways:
// its C++ source (compiled for the host and, under nvcc, the device: one code path for both
// backends), its reference implementation for the f64 interpreter (written independently, with
// BigInt arithmetic), and its arity. Arguments are integer expressions taken modulo 2^32 (u32).

export interface Intrinsic {
  readonly arity: number;
  readonly doc: string;
  /** C++ definition(s); `MAE_HD` is `__host__ __device__ inline` under nvcc, `static inline` else */
  readonly source: string;
  /** The value for u32 arguments (already reduced modulo 2^32). */
  readonly reference: (args: readonly number[]) => number;
}

const MASK32 = 0xffffffffn;

/** Philox4x32-10 (Salmon et al., SC'11) in 64-bit BigInt arithmetic: the interpreter's version. */
export function philox4x32Ref(counter: readonly number[], key: readonly number[]): number[] {
  let c = counter.map((x) => BigInt(x >>> 0));
  let [k0, k1] = key.map((x) => BigInt(x >>> 0)) as [bigint, bigint];
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9n) & MASK32;
      k1 = (k1 + 0xbb67ae85n) & MASK32;
    }
    const p0 = 0xd2511f53n * c[0]!;
    const p1 = 0xcd9e8d57n * c[2]!;
    c = [(p1 >> 32n) ^ c[1]! ^ k0, p1 & MASK32, (p0 >> 32n) ^ c[3]! ^ k1, p0 & MASK32];
  }
  return c.map(Number);
}

const PHILOX_SOURCE = `// Philox4x32-10: 128-bit counter (c0..c3) and 64-bit key (k0, k1) -> 4 words; word \`lane\`
// mapped to a 24-bit uniform in [0, 1): (word >> 8) * 2^-24, exact in float32.
MAE_HD uint32_t mae_mulhi32(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
  return __umulhi(a, b);
#else
  return (uint32_t)(((uint64_t)a * (uint64_t)b) >> 32);
#endif
}
MAE_HD float mae_philox_uniform24(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t c2,
                                  uint32_t c3, uint32_t lane) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint32_t hi0 = mae_mulhi32(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const uint32_t hi1 = mae_mulhi32(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  const uint32_t w = lane == 0 ? c0 : lane == 1 ? c1 : lane == 2 ? c2 : c3;
  return (float)(w >> 8) * 5.9604644775390625e-08f;
}`;

export const INTRINSICS = {
  philox_uniform24: {
    arity: 7,
    doc: 'philox_uniform24(k0, k1, c0, c1, c2, c3, lane): word lane of Philox4x32-10 as (w >> 8) * 2^-24',
    source: PHILOX_SOURCE,
    reference: ([k0, k1, c0, c1, c2, c3, lane]) =>
      (philox4x32Ref([c0!, c1!, c2!, c3!], [k0!, k1!])[lane! & 3]! >>> 8) * 2 ** -24,
  },
} as const satisfies Record<string, Intrinsic>;

export type IntrinsicName = keyof typeof INTRINSICS;

/** The C++ block defining every intrinsic, for the generated kernels header. */
export function intrinsicsSource(): string {
  return [
    '// Intrinsics (ir/intrinsics.ts): one definition for the CPU kernels and the CUDA kernels.',
    '#if defined(__CUDACC__)',
    '#define MAE_HD __host__ __device__ __forceinline__',
    '#else',
    '#define MAE_HD static inline',
    '#endif',
    ...Object.values(INTRINSICS).map((i) => i.source),
    '// an index read from a tensor, clamped into the dimension it indexes (emit/render.ts offset)',
    'MAE_HD int64_t mae_clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }',
  ].join('\n');
}
