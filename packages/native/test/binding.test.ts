// binding.test.ts: the addon loads and exports the documented API.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { addonPath, binding, emulated } from '../src/binding.js';

describe('binding', () => {
  it('loads build/Release/mae_native.node (mae_native_emu.node under MAE_CUDA_EMULATOR=1)', () => {
    assert.ok(existsSync(addonPath));
    assert.match(
      addonPath,
      emulated ? /build\/Release\/mae_native_emu\.node$/ : /build\/Release\/mae_native\.node$/,
    );
  });

  it('exports the runtime functions, classes and the ops object', () => {
    for (const name of [
      'tensorCreate',
      'streamCreate',
      'eventCreate',
      'buildInfo',
      'cudaDevices',
      'setCpuThreads',
      'setParentDeathSignal',
      'memoryStats',
      'emptyCache',
      'hostPin',
      'hostUnpin',
      'ncclProbe',
      'resizeBicubicU8',
      'cropResizeBicubicU8',
      'jpegAvailable',
      'jpegHeader',
      'jpegDecodeRegion',
    ] as const) {
      assert.equal(typeof binding[name], 'function', name);
    }
    assert.equal(typeof binding.ops, 'object');
  });

  it('validates raw arguments with TypeErrors', () => {
    assert.throws(
      () => binding.tensorCreate(9, [1], 0, 0),
      /tensorCreate: dtypeCode must be an integer in 0\.\.6, got 9/,
    );
    assert.throws(() => binding.tensorCreate(0, [1, -1], 0, 0), /shape\[1\] must be an integer/);
    assert.throws(
      () => binding.tensorCreate(0, 'x' as never, 0, 0),
      /shape must be an array of integers, got string/,
    );
    assert.throws(
      () => binding.setParentDeathSignal(0),
      /setParentDeathSignal: signal must be an integer in 1\.\.64, got 0/,
    );
    const ctor = (binding as unknown as { NativeTensor: new () => unknown }).NativeTensor;
    assert.throws(() => new ctor(), /use tensorCreate\(\)/);
  });
});
