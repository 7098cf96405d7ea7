// occupancy.test.ts: blocks per SM from registers, shared memory, threads and the block limit, as
// CUDA's occupancy calculator gives them for an H100, and the share of the GPU a grid keeps busy.
import assert from 'node:assert/strict';
import { GPUS } from '../../src/perf/gpus.js';
import { occupancy } from '../../src/perf/occupancy.js';

const h100 = GPUS.h100;

describe('occupancy', () => {
  it('is limited by registers in 256-register units per warp', () => {
    // 235 registers: 7680 per warp, 61440 for 8 warps: one 256-thread block per SM
    assert.deepEqual(
      [occupancy(h100, 256, 235, 20480, 1000).blocksPerSm, occupancy(h100, 256, 235, 20480, 1000).limit],
      [1, 'registers'],
    );
    // 128 registers x 128 threads: exactly 4 blocks; 137 registers (144 per thread): 3
    assert.equal(occupancy(h100, 128, 128, 0, 1000).blocksPerSm, 4);
    assert.equal(occupancy(h100, 128, 137, 0, 1000).blocksPerSm, 3);
  });
  it('is limited by shared memory (1 KiB units, 1 KiB reserved per block), threads and blocks', () => {
    const smem = occupancy(h100, 128, 32, 100 * 1024, 1000);
    assert.deepEqual([smem.blocksPerSm, smem.limit], [2, 'shared memory']);
    const threads = occupancy(h100, 1024, 32, 0, 1000);
    assert.deepEqual([threads.blocksPerSm, threads.limit], [2, 'threads']);
    const blocks = occupancy(h100, 32, 16, 0, 1000);
    assert.deepEqual([blocks.blocksPerSm, blocks.limit], [32, 'blocks']);
  });
  it('without registers (no ptxas report) limits by the rest and says so', () => {
    const o = occupancy(h100, 256, undefined, 0, 10);
    assert.deepEqual([o.blocksPerSm, o.registersKnown], [8, false]);
  });
  it('counts waves and the share of the GPU they keep busy', () => {
    // one block: one SM of 132
    assert.equal(occupancy(h100, 256, 235, 0, 1).waveEfficiency, 1 / 132);
    // one wave over every SM
    const one = occupancy(h100, 256, 235, 0, 132);
    assert.deepEqual([one.waves, one.waveEfficiency], [1, 1]);
    // 133 blocks of one per SM: a second wave of one block
    const two = occupancy(h100, 256, 235, 0, 133);
    assert.deepEqual([two.waves, two.waveEfficiency], [2, 133 / 264]);
  });
});
