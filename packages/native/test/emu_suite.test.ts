// emu_suite.test.ts: the package's tests that need a CUDA device (skipped on a machine without a
// GPU) run again in a child process on the emulated cuda:0 (MAE_CUDA_EMULATOR=1, docs/EMULATOR.md):
// tensors, copies, streams, events, CUDA graphs and the allocator on the CUDA code paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { emulated } from '../src/binding.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const FILES = ['binding', 'info', 'tensor', 'stream', 'event', 'graph', 'memory'].map(
  (f) => `test/${f}.test.ts`,
);

(emulated ? describe.skip : describe)('the CUDA-only tests on the emulated device', () => {
  it('pass, with their CUDA blocks run (not skipped)', function () {
    this.timeout(600000);
    if (!existsSync(`${pkg}build/Release/mae_native_emu.node`))
      throw new Error('mae_native_emu.node is missing: run pnpm build');
    const mocha = fileURLToPath(new URL('../node_modules/.bin/mocha', import.meta.url));
    const r = spawnSync(
      mocha,
      ['--no-config', '--node-option', 'import=tsx', '--timeout', '300000', ...FILES],
      {
        cwd: pkg,
        encoding: 'utf8',
        env: { ...process.env, MAE_CUDA_EMULATOR: '1' },
        timeout: 600000,
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /CudaGraph on CUDA\n\s+✔ replays a captured chain of ops/);
    assert.match(r.stdout, / 0 failing|passing \(\d+/);
    assert.doesNotMatch(r.stdout, /failing/);
  });
});
