// loader.ts: the epoch order (a Fisher-Yates shuffle drawn from Philox, deterministic from seed
// and epoch alone, so a resumed run sees the same order as an uninterrupted one) and batching of
// normalised images into an f32 Tensor [N, C, H, W] on a device.

import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import { Streams } from '../rng/noise.js';
import { PhiloxStream } from '../rng/stream.js';
import type { ImageDataset } from './dataset.js';

/** Philox stream ids of the epoch orders: DATA_ORDER_STREAM + epoch (clear of masking and init). */
export const DATA_ORDER_STREAM = Streams.dataOrderBase;

/** A permutation of 0..n-1 for this epoch; the same for the same (seed, epoch, n). */
export function epochOrder(seed: number, epoch: number, n: number): Uint32Array {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 0x4000_0000)
    throw new RangeError(`epoch must be an integer in [0, 2^30), got ${epoch}`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new PhiloxStream(seed, DATA_ORDER_STREAM + epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** The normalised images at `indices` as one host array, row-major [N, C, H, W]. */
export function batchArray(dataset: ImageDataset, indices: ArrayLike<number>): Float32Array {
  const n = dataset.imageSize;
  const out = new Float32Array(indices.length * n);
  for (let k = 0; k < indices.length; k++) dataset.readNormalized(indices[k]!, out, k * n);
  return out;
}

/** The normalised images at `indices` as an f32 tensor [N, C, H, W] on device. */
export function batchTensor(
  dataset: ImageDataset,
  indices: ArrayLike<number>,
  device: DeviceSpec = 'cpu',
): Tensor<'f32'> {
  return Tensor.fromArray('f32', [indices.length, ...dataset.shape], batchArray(dataset, indices), device);
}
