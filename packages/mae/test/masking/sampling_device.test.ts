// Block and grid masks through the masking ops equal the host's masking of the same scores, on the
// CPU backend and on the CUDA path under the emulator (MAE_CUDA_EMULATOR=1, a child process).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@mae-cuda/native';
import { maskingOnDevice } from '../../src/masking/device.js';
import { fromInt64, randomMasking } from '../../src/masking/random_masking.js';
import { maskScores } from '../../src/masking/sampling.js';
import { DEVICE_CASES } from './sampling_cases.js';

const emuAddon = fileURLToPath(new URL('../../../native/build/Release/mae_native_emu.node', import.meta.url));
const child = fileURLToPath(new URL('./sampling_device_child.ts', import.meta.url));
const host = DEVICE_CASES.map((r) => randomMasking(maskScores(r), r.N, r.side ** 2, r.maskRatio));
const label = (i: number) => {
  const r = DEVICE_CASES[i]!;
  return `${r.sampling}, ${r.side}x${r.side}, ratio ${r.maskRatio}`;
};

describe('mask sampling on the devices', () => {
  it('the CPU backend masks as the host does', async () => {
    for (const [i, r] of DEVICE_CASES.entries()) {
      const dev = maskingOnDevice(Tensor.fromArray('f32', [r.N, r.side ** 2], maskScores(r)), r.lenKeep);
      assert.deepEqual(fromInt64(await dev.idsRestore.toArray()), host[i]!.idsRestore, label(i));
      assert.deepEqual(await dev.mask.toArray(), host[i]!.mask, label(i));
    }
  });

  it('the CUDA path under the emulator masks as the host does', function () {
    this.timeout(300000);
    if (!existsSync(emuAddon))
      throw new Error(`${emuAddon} is missing: pnpm build builds it (CMake MAE_CUDA_EMULATOR)`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
      encoding: 'utf8',
      env: { ...process.env, MAE_CUDA_EMULATOR: '1' },
      timeout: 300000,
    });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { idsRestore: number[]; mask: number[] }[];
    assert.equal(got.length, DEVICE_CASES.length);
    got.forEach((g, i) => {
      assert.deepEqual(Int32Array.from(g.idsRestore), host[i]!.idsRestore, label(i));
      assert.deepEqual(Float32Array.from(g.mask), host[i]!.mask, label(i));
    });
  });
});
