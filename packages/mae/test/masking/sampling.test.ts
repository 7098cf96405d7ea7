// Mask sampling strategies as scores: random is the masking noise bit for bit; block and grid mask
// exactly L - len_keep patches for every ratio and grid size; blocks are rectangles inside the grid
// whose union (less the last block's trimmed patches) is the mask; the grid pattern is exact; the
// scores of a global row do not depend on how the batch is split over ranks.
import assert from 'node:assert/strict';
import { lenKeepFor } from '../../src/config/model.js';
import { blockMinArea, blockScores, sampleBlocks } from '../../src/masking/block.js';
import { onGrid } from '../../src/masking/grid.js';
import { randomMasking } from '../../src/masking/random_masking.js';
import {
  MASK_SAMPLINGS,
  maskSamplingIssue,
  maskScores,
  type ScoreRequest,
} from '../../src/masking/sampling.js';
import { batchNoise, rowUniforms, Streams, uniformNoise } from '../../src/rng/noise.js';

const RATIOS = [0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 0.9, 0.95];
const SIDES = [1, 2, 3, 4, 5, 7, 8, 14, 16];
const masked = (mask: Float32Array, n: number, L: number) =>
  mask.subarray(n * L, (n + 1) * L).reduce((a, b) => a + b, 0);
const masksOf = (r: ScoreRequest) => randomMasking(maskScores(r), r.N, r.side * r.side, r.maskRatio);

describe('rowUniforms', () => {
  it("reads on from uniformNoise's values of the row", () => {
    const next = rowUniforms(5, Streams.maskNoise, 3, 7);
    const got = Float32Array.from({ length: 23 }, next);
    assert.deepEqual(got, uniformNoise(5, Streams.maskNoise, 3, 7, 23));
  });
});

describe('maskScores', () => {
  it("random: the masking noise bit for bit (today's masking unchanged)", () => {
    const r = { sampling: 'random', seed: 9, step: 4, N: 3, side: 7, maskRatio: 0.75, rowOffset: 6 } as const;
    assert.deepEqual(maskScores(r), batchNoise(9, Streams.maskNoise, 4, 3, 49, 6));
  });

  for (const sampling of ['random', 'block'] as const)
    it(`${sampling}: exactly L - len_keep patches masked for every ratio and grid size`, () => {
      for (const side of SIDES)
        for (const maskRatio of RATIOS) {
          const L = side * side;
          const m = masksOf({ sampling, seed: side, step: 2, N: 6, side, maskRatio });
          assert.equal(m.lenKeep, lenKeepFor(L, maskRatio));
          for (let n = 0; n < 6; n++)
            assert.equal(masked(m.mask, n, L), L - m.lenKeep, `side ${side}, ratio ${maskRatio}, row ${n}`);
        }
    });

  it('grid: exactly L - len_keep masked on every grid size, the pattern exact on even sides', () => {
    for (const side of [1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 16]) {
      const L = side * side;
      const m = masksOf({ sampling: 'grid', seed: 1, step: 0, N: 4, side, maskRatio: 0.75 });
      for (let n = 0; n < 4; n++) {
        assert.equal(masked(m.mask, n, L), L - lenKeepFor(L, 0.75), `side ${side}`);
        for (let l = 0; l < L; l++) {
          const kept = m.mask[n * L + l] === 0;
          if (side % 2 === 0) assert.equal(kept, onGrid(l, side), `side ${side}, patch ${l}`);
          else if (kept) assert.ok(onGrid(l, side), `side ${side}: kept patch ${l} is off the pattern`);
        }
      }
    }
  });

  it('grid: the odd-side trim differs between rows (it follows the noise)', () => {
    const m = masksOf({ sampling: 'grid', seed: 3, step: 0, N: 8, side: 7, maskRatio: 0.75 });
    const rows = new Set(Array.from({ length: 8 }, (_, n) => m.mask.subarray(n * 49, n * 49 + 49).join('')));
    assert.ok(rows.size > 1);
  });

  for (const sampling of MASK_SAMPLINGS)
    it(`${sampling}: a global row's scores do not depend on the rank count`, () => {
      const base = { sampling, seed: 2 ** 40 + 3, step: 11, side: 14, maskRatio: 0.75 } as const;
      const whole = maskScores({ ...base, N: 8 });
      for (const world of [2, 4, 8]) {
        const per = 8 / world;
        const parts = Array.from({ length: world }, (_, r) =>
          maskScores({ ...base, N: per, rowOffset: r * per }),
        );
        const joined = new Float32Array(whole.length);
        parts.forEach((p, r) => joined.set(p, r * p.length));
        assert.deepEqual(joined, whole, `world ${world}`);
      }
    });

  for (const sampling of MASK_SAMPLINGS)
    it(`${sampling}: deterministic from (seed, step), different at another step`, () => {
      const r = { sampling, seed: 4, step: 1, N: 4, side: 8, maskRatio: 0.75 } as const;
      assert.deepEqual(maskScores(r), maskScores(r));
      const a = masksOf(r).mask;
      const b = masksOf({ ...r, step: 2 }).mask;
      if (sampling === 'grid') assert.deepEqual(a, b, 'the even-side pattern is fixed');
      else assert.notDeepEqual(a, b);
    });

  it('grid refuses any ratio but 0.75, naming the flags', () => {
    assert.match(maskSamplingIssue('grid', 0.6)!, /--mask-sampling grid .*0\.75; --mask-ratio is 0\.6/);
    assert.equal(maskSamplingIssue('grid', 0.75), undefined);
    assert.equal(maskSamplingIssue('block', 0.6), undefined);
    assert.throws(
      () => maskScores({ sampling: 'grid', seed: 0, step: 0, N: 1, side: 4, maskRatio: 0.5 }),
      /--mask-ratio is 0\.5/,
    );
  });
});

describe('block sampling', () => {
  it('blocks are rectangles inside the grid; the mask is their union less a trim of the last one', () => {
    for (const side of SIDES)
      for (const maskRatio of RATIOS)
        for (let row = 0; row < 4; row++) {
          const L = side * side;
          const target = L - lenKeepFor(L, maskRatio);
          const m = sampleBlocks(side, target, rowUniforms(7, 0, side, row));
          const where = `side ${side}, ratio ${maskRatio}, row ${row}`;
          assert.ok(m.masked >= target, where);
          const union = new Uint8Array(L);
          m.blocks.forEach((b, i) => {
            assert.ok(b.top >= 0 && b.left >= 0 && b.height >= 1 && b.width >= 1, where);
            assert.ok(
              b.top + b.height <= side && b.left + b.width <= side,
              `${where}: block ${i} is outside`,
            );
            for (let y = b.top; y < b.top + b.height; y++)
              for (let x = b.left; x < b.left + b.width; x++) union[y * side + x] = 1;
          });
          const mask = randomMasking(blockScores(m), 1, L, maskRatio).mask;
          const last = m.blocks.length - 1;
          let trimmed = 0;
          for (let l = 0; l < L; l++) {
            if (m.owner[l]! < 0)
              assert.equal(mask[l], 0, `${where}: patch ${l} outside every block is masked`);
            else if (m.owner[l]! < last)
              assert.equal(mask[l], 1, `${where}: patch ${l} of block ${m.owner[l]} is kept`);
            else if (mask[l] === 0) {
              assert.equal(
                trimmed,
                countBefore(m.owner, last, l),
                `${where}: the trim is a prefix of the last block`,
              );
              trimmed++;
            }
          }
          assert.equal(trimmed, m.masked - target, where);
        }
  });

  it('blocks have about the least area (16, (side-1)^2 on small grids) or more', () => {
    let blocks = 0;
    for (const side of [7, 14, 16])
      for (let row = 0; row < 20; row++) {
        const m = sampleBlocks(side, Math.round(side * side * 0.5), rowUniforms(1, 0, 0, row));
        for (const b of m.blocks) {
          // rounding h and w can take an area of 16 down to 12 (2.5 -> 2 by half to even, 6.4 -> 6)
          assert.ok(b.height * b.width >= 0.75 * blockMinArea(side), `${b.height}x${b.width} on ${side}`);
          const aspect = b.height / b.width;
          assert.ok(aspect >= 0.2 && aspect <= 5, `aspect ${aspect}`);
          blocks++;
        }
      }
    assert.ok(blocks > 60);
    assert.equal(blockMinArea(14), 16);
    assert.equal(blockMinArea(3), 4);
    assert.equal(blockMinArea(1), 1);
  });

  it('refuses a bad grid or target', () => {
    assert.throws(() => sampleBlocks(0, 0, Math.random), /side must be a positive integer/);
    assert.throws(() => sampleBlocks(3, 10, Math.random), /target must be an integer in \[0, 9\]/);
  });
});

/** How many patches of block `b` come before patch l in row-major order. */
function countBefore(owner: Int32Array, b: number, l: number): number {
  let before = 0;
  for (let k = 0; k < l; k++) if (owner[k] === b) before++;
  return before;
}
