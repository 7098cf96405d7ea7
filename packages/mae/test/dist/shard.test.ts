// Sharding: every rank's blocks together are exactly one rank's doubled batch, and an epoch
// reads no image twice.
import assert from 'node:assert/strict';
import { shardRange, shardRowOffset } from '../../src/dist/shard.js';

describe('shardRange', () => {
  it('W ranks of batch B cover the positions of one rank of batch W*B, once each', () => {
    for (const [W, B, steps] of [
      [2, 4, 5],
      [3, 5, 4],
      [1, 7, 3],
    ] as const) {
      const seen = new Set<number>();
      for (let it = 0; it < steps; it++) {
        const global: number[] = [];
        for (let r = 0; r < W; r++) {
          const [a, b] = shardRange(it, B, r, W);
          assert.equal(b - a, B);
          for (let i = a; i < b; i++) {
            assert.ok(!seen.has(i), `position ${i} read twice`);
            seen.add(i);
            global.push(i);
          }
        }
        const [a, b] = shardRange(it, W * B, 0, 1);
        assert.deepEqual(
          global,
          Array.from({ length: b - a }, (_, i) => a + i),
        );
      }
    }
    assert.equal(shardRowOffset(8, 3), 24);
    assert.throws(() => shardRange(0, 4, 2, 2), /rank 2 is not in \[0, 2\)/);
  });
});
