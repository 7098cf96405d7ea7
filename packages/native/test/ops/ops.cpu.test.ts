// Every generated op on the CPU backend against the f64 reference interpreter, every dtype
// variant, odd sizes (1, 7, 33, 197, 5) and fresh random inputs.
import assert from 'node:assert/strict';
import { ALL_OPS, variantSuffix } from '@mae-cuda/codegen';
import { runCase, sizeCases } from './harness.js';

const seed = Number(process.env.MAE_TEST_SEED ?? Date.now() % 100000);

describe(`ops on the CPU backend (seed ${seed})`, () => {
  for (const op of ALL_OPS)
    for (const v of op.variants)
      it(`${op.name} ${variantSuffix(v)}`, async () => {
        for (const [i, sizes] of sizeCases(op).entries()) {
          const r = await runCase(op, v, sizes, 'cpu', seed + i);
          assert.ok(
            r.worst <= 1,
            `${JSON.stringify(sizes)}: error ${r.worst.toFixed(2)}x tolerance at ${r.where}`,
          );
        }
      });
});
