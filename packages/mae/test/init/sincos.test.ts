// sincos.test.ts: the 2-D sin-cos position embedding against hand-computed values, an independent
// transcription of the numpy code (meshgrid, 1-D embeddings, concatenation), and the fixture.
import assert from 'node:assert/strict';
import { sincos2d, sincos2dF64 } from '../../src/init/sincos.js';
import { f32, loadTensors, requireParityDir } from '../config/parity_fixture.js';

/** util/pos_embed.py step by step: rows of the meshgrid, the 1-D embeddings, concatenations. */
function numpyStyle(D: number, G: number, cls: boolean): number[][] {
  // grid = np.meshgrid(grid_w, grid_h): grid[0][i][j] = j (w), grid[1][i][j] = i (h); flattened row-major
  const grid0: number[] = [];
  const grid1: number[] = [];
  for (let i = 0; i < G; i++) {
    for (let j = 0; j < G; j++) {
      grid0.push(j);
      grid1.push(i);
    }
  }
  const oneD = (dim: number, pos: number[]) => {
    const omega = Array.from({ length: dim / 2 }, (_, k) => 1 / 10000 ** (k / (dim / 2)));
    return pos.map((m) => [...omega.map((o) => Math.sin(m * o)), ...omega.map((o) => Math.cos(m * o))]);
  };
  const embH = oneD(D / 2, grid0);
  const embW = oneD(D / 2, grid1);
  const rows = embH.map((h, m) => [...h, ...embW[m]]);
  return cls ? [new Array(D).fill(0), ...rows] : rows;
}

describe('sincos2d', () => {
  it('has hand-computed values (D = 8, G = 2: omega = 1, 1/100)', () => {
    const e = sincos2dF64(8, 2, true);
    const row = (t: number) => [...e.subarray(t * 8, t * 8 + 8)];
    const s = Math.sin;
    const c = Math.cos;
    assert.deepEqual(row(0), [0, 0, 0, 0, 0, 0, 0, 0]); // cls
    assert.deepEqual(row(1), [0, 0, 1, 1, 0, 0, 1, 1]); // r 0, c 0
    assert.deepEqual(row(2), [s(1), s(0.01), c(1), c(0.01), 0, 0, 1, 1]); // r 0, c 1: w half first
    assert.deepEqual(row(3), [0, 0, 1, 1, s(1), s(0.01), c(1), c(0.01)]); // r 1, c 0
    assert.deepEqual(row(4), [s(1), s(0.01), c(1), c(0.01), s(1), s(0.01), c(1), c(0.01)]);
    assert.equal(sincos2dF64(8, 2, false).length, 4 * 8);
  });

  it('equals the numpy-style transcription for several sizes', () => {
    for (const [D, G, cls] of [
      [8, 3, true],
      [64, 4, true],
      [32, 4, false],
      [768, 14, true],
    ] as [number, number, boolean][]) {
      const want = numpyStyle(D, G, cls).flat();
      assert.deepEqual([...sincos2dF64(D, G, cls)], want, `D=${D} G=${G}`);
      assert.deepEqual(sincos2d(D, G, cls), Float32Array.from(want));
    }
  });

  it('pins a value of the ViT-B embedding (token r 13, c 5, k 1 of the cos-w quarter)', () => {
    // D = 768, Q = 192, omega_1 = 10000 ** (-1/192); column c = 5
    const e = sincos2dF64(768, 14, true);
    const t = 1 + 13 * 14 + 5;
    assert.equal(e[t * 768 + 192 + 1], Math.cos(5 * 10000 ** (-1 / 192)));
    assert.ok(Math.abs(e[t * 768 + 192 + 1] - 0.053395) < 1e-6);
  });

  it('rejects dims that are not multiples of 4', () => {
    assert.throws(() => sincos2d(6, 2, true), /multiple of 4/);
    assert.throws(() => sincos2d(8, 0, true), /gridSize/);
  });

  it('matches the fixture pos_embed and decoder_pos_embed', async function () {
    const dir = requireParityDir(this);
    const w = await loadTensors(dir, 'weights');
    for (const [name, D] of [
      ['pos_embed', 64],
      ['decoder_pos_embed', 32],
    ] as const) {
      const ref = f32(w.get(name), name);
      assert.deepEqual(w.get(name)?.shape, [1, 17, D]);
      const got = sincos2d(D, 4, true);
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
      assert.ok(maxErr <= 1e-7, `${name}: max abs error ${maxErr}`);
    }
  });
});
