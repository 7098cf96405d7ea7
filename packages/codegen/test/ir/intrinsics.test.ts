// The intrinsics' reference implementations against published answers (Random123's kat_vectors
// for Philox4x32-10), and the noise op's semantics as the interpreter evaluates them.
import assert from 'node:assert/strict';
import { INTRINSICS, intrinsicsSource, philox4x32Ref } from '../../src/ir/intrinsics.js';
import { getOp } from '../../src/ops/index.js';
import { evaluateOp } from '../../src/reference/interp.js';

const hex = (w: number[]) => w.map((x) => x.toString(16).padStart(8, '0')).join(' ');

describe('intrinsics', () => {
  it('philox4x32-10 matches the Random123 known answers', () => {
    assert.equal(hex(philox4x32Ref([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const ones = 0xffffffff;
    assert.equal(
      hex(philox4x32Ref([ones, ones, ones, ones], [ones, ones])),
      '408f276d 41c83b0e a20bc7c6 6d5451fd',
    );
    assert.equal(
      hex(philox4x32Ref([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  it('philox_uniform24 takes word `lane` and keeps its top 24 bits', () => {
    const f = INTRINSICS.philox_uniform24.reference;
    assert.equal(f([0, 0, 0, 0, 0, 0, 0]), (0x6627e8d5 >>> 8) / 2 ** 24);
    assert.equal(f([0, 0, 0, 0, 0, 0, 3]), (0x9b00dbd8 >>> 8) / 2 ** 24);
  });

  it('the C++ source defines every intrinsic for host and device', () => {
    const src = intrinsicsSource();
    for (const name of Object.keys(INTRINSICS)) assert.match(src, new RegExp(`MAE_HD float mae_${name}\\(`));
    assert.match(src, /__host__ __device__/);
  });

  it('philox_noise_forward: value l of row n is word l % 4 of block l / 4 at counter row ctr[2] + n', () => {
    const seed = { shape: [2], data: [0x243f6a88 | 0, 0x85a308d3 | 0] };
    const ctr = { shape: [3], data: [7, 1, 100] };
    const out = evaluateOp(getOp('philox_noise_forward'), { seed, ctr }, {}, { N: 2, L: 6 }).noise!;
    for (let n = 0; n < 2; n++)
      for (let l = 0; l < 6; l++) {
        const words = philox4x32Ref([l >> 2, 100 + n, 7, 1], [0x243f6a88, 0x85a308d3]);
        assert.equal(out.data[n * 6 + l], (words[l % 4]! >>> 8) * 2 ** -24, `n=${n} l=${l}`);
      }
  });

  it('noise_step_forward advances the step and keeps stream and row offset', () => {
    const out = evaluateOp(getOp('noise_step_forward'), { ctr: { shape: [3], data: [41, 5, 9] } }).ctr_out!;
    assert.deepEqual([...out.data], [42, 5, 9]);
  });
});
