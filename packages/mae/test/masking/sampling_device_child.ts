// sampling_device_child.ts: run by sampling_device.test.ts under MAE_CUDA_EMULATOR=1: the masking
// ops on cuda:0 over each strategy's scores; prints the ids_restore and mask of each case as JSON.
import { Tensor } from '@mae-cuda/native';
import { maskingOnDevice } from '../../src/masking/device.js';
import { fromInt64 } from '../../src/masking/random_masking.js';
import { maskScores } from '../../src/masking/sampling.js';
import { DEVICE_CASES } from './sampling_cases.js';

const out = [];
for (const r of DEVICE_CASES) {
  const dev = maskingOnDevice(
    Tensor.fromArray('f32', [r.N, r.side ** 2], maskScores(r), 'cuda:0'),
    r.lenKeep,
  );
  out.push({
    idsRestore: Array.from(fromInt64(await dev.idsRestore.toArray())),
    mask: Array.from(await dev.mask.toArray()),
  });
}
process.stdout.write(JSON.stringify(out));
