// device.ts: random masking computed by ops where the tensors live (the GPU included): from noise
// [N, L] on a device to ids_restore, ids_shuffle (ids_keep is its first len_keep columns) and the
// mask, equal to the host's randomMasking bit for bit (stable ranks, ties broken by index).
import { ops, Tensor } from '@mae-cuda/native';

export interface DeviceMasking {
  readonly N: number;
  readonly L: number;
  readonly lenKeep: number;
  /** [N, L] rank of each patch in the shuffled order (kept when < lenKeep) */
  readonly idsRestore: Tensor<'i64'>;
  /** [N, L] the patch at each shuffled position; the first lenKeep are the kept ones */
  readonly idsShuffle: Tensor<'i64'>;
  /** [N, L] 1 = removed, 0 = kept */
  readonly mask: Tensor<'f32'>;
}

export function maskingOnDevice(noise: Tensor<'f32'>, lenKeep: number): DeviceMasking {
  if (noise.shape.length !== 2) throw new TypeError(`noise must be [N, L], got [${noise.shape.join(', ')}]`);
  const [N, L] = noise.shape as [number, number];
  if (!Number.isInteger(lenKeep) || lenKeep < 0 || lenKeep > L)
    throw new RangeError(`lenKeep must be an integer in [0, ${L}], got ${lenKeep}`);
  const idsRestore = Tensor.empty('i64', [N, L], noise.device);
  const idsShuffle = Tensor.empty('i64', [N, L], noise.device);
  const mask = Tensor.empty('f32', [N, L], noise.device);
  ops.mask_ranks_forward(idsRestore, noise);
  ops.ids_invert_forward(idsShuffle, idsRestore);
  ops.mask_from_ranks_forward(mask, idsRestore, lenKeep);
  return { N, L, lenKeep, idsRestore, idsShuffle, mask };
}
