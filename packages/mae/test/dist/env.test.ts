// The world from torchrun-style and Slurm environments, and clear refusals of bad values.
import assert from 'node:assert/strict';
import { firstSlurmHost, worldFromEnv } from '../../src/dist/env.js';

describe('worldFromEnv', () => {
  it('is undefined for a plain process', () => {
    assert.equal(worldFromEnv({}), undefined);
  });
  it('reads torchrun variables', () => {
    const w = worldFromEnv({
      RANK: '5',
      LOCAL_RANK: '1',
      WORLD_SIZE: '8',
      LOCAL_WORLD_SIZE: '4',
      MASTER_ADDR: 'node7',
      MASTER_PORT: '29600',
    });
    assert.deepEqual(w, {
      rank: 5,
      world: 8,
      localRank: 1,
      localWorld: 4,
      masterAddr: 'node7',
      masterPort: 29600,
      source: 'torchrun',
    });
  });
  it('reads Slurm variables, the master being the first node', () => {
    const w = worldFromEnv({
      SLURM_PROCID: '3',
      SLURM_NTASKS: '4',
      SLURM_LOCALID: '1',
      SLURM_TASKS_PER_NODE: '2(x2)',
      SLURM_NODELIST: 'gpu[07-08]',
    })!;
    assert.equal(w.rank, 3);
    assert.equal(w.world, 4);
    assert.equal(w.localRank, 1);
    assert.equal(w.localWorld, 2);
    assert.equal(w.masterAddr, 'gpu07');
    assert.equal(w.masterPort, 29500);
    assert.equal(w.source, 'slurm');
  });
  it('parses node lists', () => {
    assert.equal(firstSlurmHost('a1'), 'a1');
    assert.equal(firstSlurmHost('gpu[03-05,09],cpu1'), 'gpu03');
    assert.equal(firstSlurmHost('n[1,4]'), 'n1');
  });
  it('refuses malformed or inconsistent values, naming the variable', () => {
    assert.throws(() => worldFromEnv({ WORLD_SIZE: '2' }), /WORLD_SIZE is set but RANK is not/);
    assert.throws(() => worldFromEnv({ WORLD_SIZE: '2', RANK: '2' }), /RANK=2 must be below WORLD_SIZE=2/);
    assert.throws(
      () => worldFromEnv({ WORLD_SIZE: 'two', RANK: '0' }),
      /WORLD_SIZE="two" must be an integer/,
    );
    assert.throws(
      () => worldFromEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '70000' }),
      /MASTER_PORT=70000/,
    );
    assert.throws(
      () => worldFromEnv({ SLURM_NTASKS: '2', SLURM_PROCID: '5' }),
      /SLURM_PROCID=5 must be below/,
    );
  });
});

describe('worldFromEnv under mpirun', () => {
  it('reads Open MPI and PMI variables', () => {
    const o = worldFromEnv({
      OMPI_COMM_WORLD_RANK: '3',
      OMPI_COMM_WORLD_SIZE: '8',
      OMPI_COMM_WORLD_LOCAL_RANK: '3',
      OMPI_COMM_WORLD_LOCAL_SIZE: '4',
      MASTER_ADDR: 'n0',
    })!;
    assert.deepEqual(
      [o.rank, o.world, o.localRank, o.localWorld, o.masterAddr, o.source],
      [3, 8, 3, 4, 'n0', 'mpi'],
    );
    const p = worldFromEnv({ PMI_RANK: '1', PMI_SIZE: '2' })!;
    assert.deepEqual([p.rank, p.world, p.localRank, p.localWorld], [1, 2, 1, 2]);
    assert.throws(() => worldFromEnv({ PMI_SIZE: '2' }), /MPI rank \(undefined\) must be below/);
  });
  it('MAE_DIST_TIMEOUT bounds how long NCCL may hang', async () => {
    const { distTimeoutMs } = await import('../../src/dist/env.js');
    assert.equal(distTimeoutMs({}), 1_800_000);
    assert.equal(distTimeoutMs({ MAE_DIST_TIMEOUT: '90' }), 90_000);
    assert.throws(
      () => distTimeoutMs({ MAE_DIST_TIMEOUT: 'soon' }),
      /MAE_DIST_TIMEOUT="soon" must be a positive number/,
    );
  });
});
