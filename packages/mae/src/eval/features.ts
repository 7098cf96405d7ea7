// features.ts: encoder features of images for evaluation: the unmasked encoder's output (after its
// final norm) in batches, as the cls token's row and the mean of the patch tokens' rows.
import type { DeviceSpec } from '@mae-cuda/native';
import type { ImageDataset } from '../data/dataset.js';
import { batchTensor } from '../data/loader.js';
import type { MaskedAutoencoder } from '../model/mae.js';

export interface Features {
  count: number;
  dim: number;
  /** the cls token's features, [count, dim] */
  cls: Float32Array;
  /** the patch tokens' features averaged, [count, dim] */
  mean: Float32Array;
}

/** The features of every image of `images`, `batch` at a time; onBatch(done, total) after each. */
export async function encoderFeatures(
  model: MaskedAutoencoder,
  images: ImageDataset,
  batch: number,
  device: DeviceSpec,
  onBatch?: (done: number, total: number) => void,
): Promise<Features> {
  const count = images.length;
  const dim = model.config.embed_dim;
  const cls = new Float32Array(count * dim);
  const mean = new Float32Array(count * dim);
  for (let at = 0; at < count; at += batch) {
    const idx = Array.from({ length: Math.min(batch, count - at) }, (_, k) => at + k);
    const latent = await model.encode(batchTensor(images, idx, device)).toFloat32Array();
    const T = latent.length / (idx.length * dim);
    for (let n = 0; n < idx.length; n++) {
      const row = (t: number, j: number) => latent[(n * T + t) * dim + j]!;
      for (let j = 0; j < dim; j++) {
        cls[(at + n) * dim + j] = row(0, j);
        let s = 0;
        for (let t = 1; t < T; t++) s += row(t, j);
        mean[(at + n) * dim + j] = s / (T - 1);
      }
    }
    onBatch?.(at + idx.length, count);
  }
  return { count, dim, cls, mean };
}
