// The same op suite on CUDA when a GPU is present (the lent-GPU check runs exactly this);
// skipped with the reason printed otherwise.
import assert from 'node:assert/strict';
import { ALL_OPS, variantSuffix } from '@mae-cuda/codegen';
import { binding } from '../../src/binding.js';
import { bigCase, runCase, sizeCases } from './harness.js';

const seed = Number(process.env.MAE_TEST_SEED ?? Date.now() % 100000);
const build = binding.buildInfo();
const gpus = build.cuda ? binding.cudaDevices().length : 0;

describe(`ops on the CUDA backend (seed ${seed})`, () => {
  before(function () {
    if (!build.cuda || gpus === 0) {
      console.log(`    skipped: ${build.cuda ? 'no CUDA device on this machine' : 'this build has no CUDA'}`);
      this.skip();
    }
  });
  for (const op of ALL_OPS)
    for (const v of op.variants.filter((x) => !Object.values(x).includes('f64')))
      it(`${op.name} ${variantSuffix(v)}`, async () => {
        for (const [i, sizes] of [...sizeCases(op), bigCase(op)].entries()) {
          const r = await runCase(op, v, sizes, 'cuda:0', seed + i);
          assert.ok(
            r.worst <= 1,
            `${JSON.stringify(sizes)}: error ${r.worst.toFixed(2)}x tolerance at ${r.where}`,
          );
        }
      });
});
