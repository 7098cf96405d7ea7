// noise.ts: the masking noise as ops, so the GPU draws the same numbers as the host
// (packages/mae/src/rng/noise.ts) bit for bit, and a captured step can advance its own counter.
// Value l of row n: word l % 4 of Philox4x32-10 with key (seed[0], seed[1]) and counter
// (l / 4, ctr[2] + n, ctr[0], ctr[1]), mapped to (word >> 8) * 2^-24. ctr = (step, stream,
// row_offset): row_offset is the batch's first global row (a data-parallel rank's share).
import { call, int, loop, select } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';

export const philox_noise_forward = op(
  'philox_noise_forward',
  'noise[n, l] = uniform24(philox4x32_10(key = seed, counter = (l / 4, ctr[2] + n, ctr[0], ctr[1]))[l % 4])',
)
  .output('noise', 'f32', ['N', 'L'])
  .input('seed', 'i32', [2])
  .input('ctr', 'i32', [3])
  .define(({ noise, seed, ctr }, { N, L }) => {
    const [n, l] = [loop('n', N), loop('l', L)];
    const at = (i: number) => int(i);
    return assign(
      noise,
      [n, l],
      call(
        'philox_uniform24',
        seed.at(at(0)),
        seed.at(at(1)),
        l.div(int(4)),
        ctr.at(at(2)).add(n),
        ctr.at(at(0)),
        ctr.at(at(1)),
        l.mod(int(4)),
      ),
    );
  });

export const noise_step_forward = op(
  'noise_step_forward',
  'ctr_out = ctr with the step (ctr[0]) advanced by one (exact below 2^24 steps); may run in place',
)
  .output('ctr_out', 'i32', [3])
  .input('ctr', 'i32', [3])
  .inPlace('ctr_out', 'ctr')
  .define(({ ctr_out, ctr }) => {
    const i = loop('i', 3);
    return assign(ctr_out, [i], ctr.at(i).add(select(i.eq(0), 1, 0)));
  });
