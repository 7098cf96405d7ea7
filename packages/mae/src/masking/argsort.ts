// argsort.ts: per-row argsort and permutation inverse on row-major [N, L] arrays, with ids as
// Int32Array. Ties are broken by index (a stable ascending sort), the rule the CUDA backend must
// follow too; torch.argsort does not promise it, but it only matters for equal noise values.

/** ids [N, L]: per row, the indices that sort `values` ascending (stable; NaN is rejected). */
export function argsortRows(values: ArrayLike<number>, N: number, L: number): Int32Array {
  checkShape(values.length, N, L, 'values');
  const out = new Int32Array(N * L);
  const idx = new Array<number>(L);
  for (let n = 0; n < N; n++) {
    const base = n * L;
    for (let j = 0; j < L; j++) {
      if (Number.isNaN(values[base + j])) throw new RangeError(`values[${n}, ${j}] is NaN`);
      idx[j] = j;
    }
    idx.sort((a, b) => values[base + a] - values[base + b] || a - b);
    for (let j = 0; j < L; j++) out[base + j] = idx[j];
  }
  return out;
}

/** The inverse of each row's permutation (argsort of a permutation); throws unless each row is one. */
export function invertPermutationRows(perm: ArrayLike<number>, N: number, L: number): Int32Array {
  checkShape(perm.length, N, L, 'permutation');
  const out = new Int32Array(N * L).fill(-1);
  for (let n = 0; n < N; n++) {
    const base = n * L;
    for (let j = 0; j < L; j++) {
      const v = perm[base + j];
      if (!Number.isInteger(v) || v < 0 || v >= L || out[base + v] !== -1) {
        throw new RangeError(`row ${n} is not a permutation of 0..${L - 1} (entry ${j} = ${v})`);
      }
      out[base + v] = j;
    }
  }
  return out;
}

export function checkShape(length: number, N: number, L: number, what: string): void {
  if (!Number.isInteger(N) || !Number.isInteger(L) || N < 0 || L < 1 || length !== N * L) {
    throw new RangeError(`${what} has ${length} values, expected N*L = ${N}*${L}`);
  }
}
