// ids.test.ts: ids outside their range (ops document [0, L); the kernels do not check them) never
// make a kernel touch memory outside its tensors: an index read from a tensor is clamped into
// the dimension it indexes, on every backend (the CPU here; the CUDA kernels share the code).
import assert from 'node:assert/strict';
import * as ops from '../../generated/ops.js';
import { Tensor } from '../../src/tensor.js';

describe('ids out of range', () => {
  it('gather_rows_forward reads the nearest row instead of memory outside x', () => {
    const [B, L, D] = [2, 3, 4];
    const x = Tensor.fromArray(
      'f32',
      [B, L, D],
      Array.from({ length: B * L * D }, (_, i) => i),
    );
    const ids = Tensor.fromArray('i64', [B, 2], [-7, 1, 2, 1_000_000_000]);
    const out = Tensor.empty('f32', [B, 2, D]);
    ops.gather_rows_forward(out, x, ids);
    const row = (b: number, l: number) => Array.from({ length: D }, (_, d) => (b * L + l) * D + d);
    assert.deepEqual([...out.toArraySync()], [...row(0, 0), ...row(0, 1), ...row(1, 2), ...row(1, 2)]);
  });

  it('unshuffle_forward with wild ids_restore stays inside x', () => {
    const [N, L, D] = [1, 4, 2];
    const T = 2; // cls + one kept token
    const x = Tensor.fromArray('f32', [N, T, D], [1, 1, 5, 5]);
    const mask = Tensor.fromArray('f32', [D], [-1, -1]);
    const pos = Tensor.zeros('f32', [L + 1, D]);
    const ids = Tensor.fromArray('i64', [N, L], [0, -3, 2 ** 40, 3]);
    const out = Tensor.empty('f32', [N, L + 1, D]);
    ops.unshuffle_forward(out, x, mask, ids, pos);
    // id 0 (< J = 1): kept token 0 (x row 1); -3 (< J): x row -2, clamped to row 0 (cls); the
    // rest (>= J): mask tokens
    assert.deepEqual([...out.toArraySync()], [1, 1, 5, 5, 1, 1, -1, -1, -1, -1]);
  });
});
