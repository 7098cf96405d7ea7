// roofline.test.ts: a launch's modeled time from counters whose answer is known: a copy is DRAM
// bound at what HBM reaches, a tensor-core kernel at what mma.sync (or wgmma) reaches, uncoalesced loads cost
// in L1, a sampled grid is scaled to the whole grid (a persistent kernel's per tile, its time the
// busiest block's), a tiny kernel takes the launch floor, the
// serial estimate is waves x loads waited per warp (a cp.async group once) x the load latency, and the report sums launches per
// kernel and the step's MFU from the model FLOPs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stepFlops } from '../../src/bench/flops.js';
import { preset } from '../../src/config/presets.js';
import { type GridCounts, readCounts } from '../../src/perf/counts.js';
import { GPUS, LOAD_LATENCY_SECONDS, MIN_KERNEL_SECONDS, REACH } from '../../src/perf/gpus.js';
import { kernelOp, modelReport } from '../../src/perf/report.js';
import { MMA_16816_FLOPS, modelLaunch } from '../../src/perf/roofline.js';

const h100 = GPUS.h100;
const zero = { requests: 0, sectors: 0, ideal: 0 };
const zeroWf = { requests: 0, wavefronts: 0, ideal: 0 };

/** A launch of `blocks` 256-thread blocks, all of them run, with the given counters. */
function counts(kernel: string, blocks: number, over: Partial<GridCounts> = {}): GridCounts {
  return {
    kernel,
    grid: [blocks, 1, 1],
    block: [256, 1, 1],
    smem: 0,
    blocks_run: blocks,
    global_load: zero,
    global_store: zero,
    shared_load: zeroWf,
    shared_store: zeroWf,
    async_loads: 0,
    async_waits: 0,
    tiles: 0,
    tiles_total: 0,
    mma: 0,
    wgmma_flops: 0,
    block_sectors: 0,
    unique_sectors: 0,
    dram_bytes: 0,
    ...over,
  };
}

/** A coalesced copy of `bytes` bytes by 132 * 8 blocks. */
function copy(bytes: number): GridCounts {
  const sectors = bytes / 32;
  const t = { requests: sectors / 4, sectors, ideal: sectors };
  return counts('scale_forward_cuda_bf16_k0', 132 * 8, {
    global_load: t,
    global_store: t,
    block_sectors: 2 * sectors,
    unique_sectors: 2 * sectors,
    dram_bytes: 2 * bytes,
  });
}

describe('roofline model', () => {
  it('a big coalesced copy is DRAM bound at 90% of HBM', () => {
    const m = modelLaunch(copy(256 << 20), h100, 16);
    assert.equal(m.bound, 'DRAM');
    assert.ok(Math.abs(m.time - (2 * (256 << 20)) / (h100.hbmBytesPerSec * REACH.hbm)) < 1e-12);
    assert.equal(m.coalescing, 1);
  });
  it('tensor-core work is bound at what mma.sync reaches', () => {
    const mma = 1e7;
    const m = modelLaunch(counts('matmul_nn_cuda_bf16_k0_mma128x128', 132 * 8, { mma }), h100, 64);
    assert.equal(m.bound, 'tensor cores');
    assert.ok(Math.abs(m.time - (mma * MMA_16816_FLOPS) / (h100.bf16Flops * REACH.mmaSync)) < 1e-12);
  });
  it('wgmma work is bound at what wgmma reaches, and adds to mma.sync work in one kernel', () => {
    const flops = 1e12;
    const c = counts('matmul_nn_cuda_bf16_k0_wgmma', 132, { wgmma_flops: flops, block: [384, 1, 1] });
    const m = modelLaunch(c, h100, 154);
    assert.equal(m.bound, 'tensor cores');
    assert.ok(Math.abs(m.time - flops / (h100.bf16Flops * REACH.wgmma)) < 1e-12);
    assert.equal(m.tensorFlops, flops);
    const both = modelLaunch({ ...c, mma: 1e6 }, h100, 154);
    const mma = (1e6 * MMA_16816_FLOPS) / (h100.bf16Flops * REACH.mmaSync);
    assert.ok(Math.abs(both.time - m.time - mma) < 1e-12);
  });
  it('reads counter files of builds before wgmma (no wgmma_flops) as none', () => {
    const { wgmma_flops: _, ...old } = counts('k', 1);
    const path = join(tmpdir(), `mae-counts-${process.pid}.jsonl`);
    writeFileSync(path, `${JSON.stringify(old)}\n`);
    assert.equal(readCounts(path)[0]!.wgmma_flops, 0);
  });
  it('uncoalesced loads cost in L1: 32 sectors where 1 would do', () => {
    const c = copy(256 << 20);
    const bad = { ...c, global_load: { ...c.global_load, sectors: c.global_load.sectors * 32 } };
    const m = modelLaunch(bad, h100, 16);
    assert.equal(m.bound, 'L1');
    assert.ok(Math.abs(m.coalescing - 16.5) < 1e-12);
    const l1 = (33 * c.global_load.sectors) / (h100.sms * h100.clockHz * REACH.l1SectorsPerClock);
    assert.ok(Math.abs(m.time - l1) < 1e-12 && m.time > modelLaunch(c, h100, 16).time);
  });
  it('scales a sample of blocks to the grid (DRAM: the emulator scales its own estimate)', () => {
    const full = copy(256 << 20);
    const blocks = 132 * 8;
    const sample = {
      ...full,
      blocks_run: 4,
      global_load: {
        requests: 1,
        sectors: full.global_load.sectors / (blocks / 4),
        ideal: full.global_load.ideal / (blocks / 4),
      },
      global_store: {
        requests: 1,
        sectors: full.global_store.sectors / (blocks / 4),
        ideal: full.global_store.ideal / (blocks / 4),
      },
      block_sectors: full.block_sectors / (blocks / 4),
      unique_sectors: full.unique_sectors / (blocks / 4),
    };
    const a = modelLaunch(full, h100, 16);
    const b = modelLaunch(sample, h100, 16);
    assert.ok(Math.abs(a.time - b.time) / a.time < 1e-9);
    assert.equal(b.dramBytes, full.dram_bytes);
  });
  it('serial: waves x loads waited per warp x the load latency, never under the modeled time', () => {
    // 4 blocks run of a grid of 132 * 8 * 3 (3 waves at 8 blocks per SM), 8 warps each, 50 loads per warp
    const c = counts('sum_forward_cuda_f32_k0_part', 132 * 8 * 3, {
      blocks_run: 4,
      global_load: { requests: 4 * 8 * 50, sectors: 4 * 8 * 50 * 2, ideal: 4 * 8 * 50 * 2 },
    });
    const m = modelLaunch(c, h100, 32);
    assert.equal(m.occupancy.waves, 3);
    assert.equal(m.loadsPerWarp, 50);
    assert.ok(Math.abs(m.serial - 3 * 50 * LOAD_LATENCY_SECONDS) < 1e-15);
    assert.ok(m.serial > m.time);
    const tiny = modelLaunch(counts('adamw_hyper_forward_cuda_f32_k0', 1), h100, 16);
    assert.equal(tiny.serial, tiny.time);
  });
  it('serial: a warp waits for its cp.async copies once per wait that lands them', () => {
    // as above, but 40 of each warp's 50 loads are cp.async copies landed by 4 waits: 10 + 4 waited
    const c = counts('attention_forward_cuda_bf16_e64', 132 * 8 * 3, {
      blocks_run: 4,
      global_load: { requests: 4 * 8 * 50, sectors: 4 * 8 * 50 * 2, ideal: 4 * 8 * 50 * 2 },
      async_loads: 4 * 8 * 40,
      async_waits: 4 * 8 * 4,
    });
    const m = modelLaunch(c, h100, 32);
    assert.equal(m.loadsPerWarp, 14);
    assert.ok(Math.abs(m.serial - Math.max(3 * 14 * LOAD_LATENCY_SECONDS, m.time)) < 1e-15);
  });
  it('a persistent kernel scales per tile and waits for its busiest block', () => {
    // 300 tiles over 132 blocks (36 run 3 tiles, 96 run 2), each tile 1 GFLOP of wgmma; the sample:
    // 4 blocks that ran 9 tiles
    const flops = 1e9;
    const c = counts('linear_forward_cuda_bf16_k0_wgmma', 132, {
      block: [384, 1, 1],
      blocks_run: 4,
      tiles: 9,
      tiles_total: 300,
      wgmma_flops: 9 * flops,
      global_load: { requests: 4 * 12 * 20, sectors: 0, ideal: 0 },
    });
    const m = modelLaunch(c, h100, 154);
    assert.equal(m.scale, 300 / 9);
    assert.ok(Math.abs(m.tensorFlops - 300 * flops) < 1);
    assert.ok(Math.abs(m.balance - 300 / 132 / 3) < 1e-12);
    // one wave, every SM busy: the time is the busiest block's 3 tiles, not the mean 2.27
    assert.ok(Math.abs(m.time - (132 * 3 * flops) / (h100.bf16Flops * REACH.wgmma)) < 1e-12);
    // serial: the busiest block's warps wait for 3 tiles' loads (20 a warp in the sample's 9 / 4 tiles)
    assert.ok(Math.abs(m.loadsPerWarp - 20) < 1e-12);
    assert.ok(Math.abs(m.serial - Math.max(((20 * 3 * 4) / 9) * LOAD_LATENCY_SECONDS, m.time)) < 1e-15);
    // the other kernels: balance 1, per-block scaling
    assert.equal(modelLaunch({ ...c, tiles: 0, tiles_total: 0 }, h100, 154).balance, 1);
  });
  it('a tiny kernel takes the launch floor', () => {
    const m = modelLaunch(counts('adamw_hyper_forward_cuda_f32_k0', 1), h100, 16);
    assert.deepEqual([m.bound, m.time], ['launch', MIN_KERNEL_SECONDS]);
  });
});

describe('kernel report model', () => {
  it('sums launches per kernel, classes them by op and gives the MFU of the model FLOPs', () => {
    const model = preset('mae_tiny_28');
    const runs = [
      copy(64 << 20),
      copy(32 << 20),
      counts('matmul_nn_cuda_bf16_k0_mma64x64', 1056, { mma: 1e6 }),
    ];
    const r = modelReport(runs, { name: 'mae_tiny_28', model, batch: 8, sampleBlocks: 4, gpu: 'h100' });
    assert.equal(r.kernels.length, 2);
    const scale = r.kernels.find((k) => k.kernel === 'scale_forward_cuda_bf16_k0')!;
    assert.deepEqual([scale.launches, scale.op, scale.class], [2, 'scale_forward', 'elementwise']);
    assert.equal(r.kernels.find((k) => k.op === 'matmul_nn')?.class, 'GEMM');
    const step = r.launches.reduce((s, l) => s + l.time, 0);
    assert.ok(Math.abs(r.stepSeconds - step) < 1e-15);
    assert.ok(Math.abs(r.serialStepSeconds - r.launches.reduce((s, l) => s + l.serial, 0)) < 1e-15);
    assert.ok(Math.abs(r.kernels.reduce((s, k) => s + k.serial, 0) - r.serialStepSeconds) < 1e-15);
    assert.ok(Math.abs(r.mfu - ((8 / step) * stepFlops(model).step) / h100.bf16Flops) < 1e-12);
    assert.equal(r.registersKnown, false);
    assert.ok(r.kernels[0]!.time >= r.kernels[1]!.time, 'longest first');
    assert.equal(kernelOp('attention_backward_cuda_bf16_dkdv_e64'), 'attention_backward');
  });
  it('reads a counter file and names a malformed line', () => {
    const file = join(tmpdir(), `mae-counts-${process.pid}.jsonl`);
    writeFileSync(file, `${JSON.stringify(copy(1 << 20))}\n`);
    assert.equal(readCounts(file)[0]?.kernel, 'scale_forward_cuda_bf16_k0');
    writeFileSync(file, `${JSON.stringify(copy(1 << 20))}\n{"kernel": "x"}\n`);
    assert.throws(() => readCounts(file), /:2: not a grid run's counters/);
    writeFileSync(file, 'nope\n');
    assert.throws(() => readCounts(file), /:1: not JSON/);
  });
});
