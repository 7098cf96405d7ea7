// sincos.ts: the fixed 2-D sine-cosine position embedding of util/pos_embed.py
// (get_2d_sincos_pos_embed), computed in float64 like numpy and rounded to float32 like the
// official `torch.from_numpy(...).float()`.
//
// For embed dim D and grid G, with Q = D / 4 and omega_k = 1 / 10000 ** (k / Q) for k < Q:
// the token of the patch in row r and column c (token index r * G + c, after the cls row if any) is
//   [sin(c * omega), cos(c * omega), sin(r * omega), cos(r * omega)]   (each of width Q)
// The column (w coordinate) comes first: the official emb_h is built from grid[0], which is the
// first output of np.meshgrid(grid_w, grid_h). The cls row, if asked for, is all zeros.

/** omega_k = 1 / 10000 ** omega with omega = arange(dim / 2) / (dim / 2), in float64. */
function omegas(dim: number): Float64Array {
  const half = dim / 2;
  const out = new Float64Array(half);
  for (let k = 0; k < half; k++) out[k] = 1 / 10000 ** (k / half);
  return out;
}

/** The embedding as float64, [(clsToken ? 1 : 0) + G*G, D] row-major. */
export function sincos2dF64(embedDim: number, gridSize: number, clsToken: boolean): Float64Array {
  if (!Number.isInteger(embedDim) || embedDim <= 0 || embedDim % 4 !== 0) {
    throw new RangeError(`embedDim must be a positive multiple of 4, got ${embedDim}`);
  }
  if (!Number.isInteger(gridSize) || gridSize <= 0) {
    throw new RangeError(`gridSize must be a positive integer, got ${gridSize}`);
  }
  const D = embedDim;
  const Q = D / 4;
  const omega = omegas(D / 2);
  const first = clsToken ? 1 : 0;
  const out = new Float64Array((first + gridSize * gridSize) * D);
  for (let r = 0; r < gridSize; r++) {
    for (let c = 0; c < gridSize; c++) {
      const row = (first + r * gridSize + c) * D;
      for (let k = 0; k < Q; k++) {
        const a = c * omega[k];
        const b = r * omega[k];
        out[row + k] = Math.sin(a);
        out[row + Q + k] = Math.cos(a);
        out[row + 2 * Q + k] = Math.sin(b);
        out[row + 3 * Q + k] = Math.cos(b);
      }
    }
  }
  return out;
}

/** The embedding rounded to float32, [(clsToken ? 1 : 0) + G*G, D] row-major. */
export function sincos2d(embedDim: number, gridSize: number, clsToken: boolean): Float32Array {
  return Float32Array.from(sincos2dF64(embedDim, gridSize, clsToken));
}
