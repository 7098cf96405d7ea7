// emu.test.ts: `pnpm emu-check` without its rebuild (pnpm test has just built): the CUDA emulator's
// own tests (the runtime stand-in, the device side) and every op's CUDA variants run by the
// emulator against the CPU backend under the six schedules (and their variants: a low grid z limit, one SM,
// the mma.sync GEMMs, other wgmma clusters, persistent wgmma grids on a few SMs or none), with the same bytes under each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../scripts/emu-check.mjs', import.meta.url));

const opCheck = fileURLToPath(new URL('../build/Release/mae_op_check_emu', import.meta.url));

describe('MAE_CUDA_GEMM', () => {
  it('refuses a value it does not know, naming the ones it does', function () {
    this.timeout(120000);
    const r = spawnSync(opCheck, ['--device', 'cuda:0', '--small', '--only', 'matmul_nn'], {
      encoding: 'utf8',
      env: { ...process.env, MAE_CUDA_GEMM: 'tensorcores' },
    });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /matmul_nn: MAE_CUDA_GEMM must be auto, wgmma or mma/);
  });
});

describe('MAE_WG_SMS, MAE_WG_PERSISTENT, MAE_WG_CLUSTER_N', () => {
  for (const [env, want] of [
    [{ MAE_WG_SMS: '0' }, /linear_forward: MAE_WG_SMS must be a positive integer/],
    [{ MAE_WG_SMS: 'many' }, /linear_forward: MAE_WG_SMS must be a positive integer/],
    [{ MAE_WG_PERSISTENT: 'yes' }, /linear_forward: MAE_WG_PERSISTENT must be 0 or 1/],
    [{ MAE_WG_CLUSTER_N: '4' }, /linear_forward: MAE_WG_CLUSTER_N must be 1 or 2/],
  ] as const)
    it(`refuses ${JSON.stringify(env)}, naming the variable`, function () {
      this.timeout(120000);
      const r = spawnSync(opCheck, ['--device', 'cuda:0', '--small', '--only', 'linear_forward'], {
        encoding: 'utf8',
        env: { ...process.env, MAE_CUDA_EMULATOR: '1', ...env },
      });
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stdout + r.stderr, want);
    });
});

describe('emu-check', () => {
  it('passes: every CUDA kernel under every schedule, the same bytes under each', function () {
    this.timeout(40 * 60 * 1000);
    const r = spawnSync(process.execPath, [script, '--no-build'], {
      encoding: 'utf8',
      timeout: 40 * 60 * 1000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /mae_emu_api_test: api_test: all \d+ checks passed/);
    assert.match(r.stdout, /mae_emu_device_test: device_test: all passed/);
    assert.match(r.stdout, /mae_emu_async_test: device_async_test: all passed/);
    assert.match(r.stdout, /mae_emu_hopper_test: mae_emu_hopper_test: all passed/);
    assert.match(r.stdout, /mae_emu_cluster_test: mae_emu_cluster_test: all passed/);
    assert.match(r.stdout, /mae_nccl_emu_test: all nccl_emu checks passed/);
    for (const s of [
      'forward',
      'lead\\+ws5\\+cn2',
      'reverse\\+np',
      'shuffle:17\\+cl4\\+cn2',
      'warp\\+cl1',
      'warp-reverse\\+ws3',
      'warp\\+z2',
      'forward\\+sm1',
      'forward\\+mma',
    ])
      assert.match(r.stdout, new RegExp(`op_check under ${s}: op_check: \\d+ checked, 0 failed`));
    assert.match(
      r.stdout,
      /emu-check: all passed under forward, lead\+ws5\+cn2, reverse\+np, shuffle:17\+cl4\+cn2, warp\+cl1, warp-reverse\+ws3, warp\+z2, forward\+sm1, forward\+mma/,
    );
  });
});
