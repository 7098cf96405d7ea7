// preview.ts: reconstructions.png: the preview images through the model with a fixed masking
// (noise stream PREVIEW_NOISE_STREAM, step 0), drawn as original, masked, reconstruction and
// reconstruction with the visible patches pasted back; the same figure of any images
// (reconstructionPng, which `mae-cuda reconstruct` draws).
import { join } from 'node:path';
import type { DeviceSpec } from '@mae-cuda/native';
import { gridSize, lenKeep, type MaeConfig, numPatches } from '../config/model.js';
import type { ImageDataset } from '../data/dataset.js';
import { batchArray, batchTensor } from '../data/loader.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { randomMasking } from '../masking/random_masking.js';
import { type MaskSampling, maskScores } from '../masking/sampling.js';
import type { MaskedAutoencoder } from '../model/mae.js';
import { Streams } from '../rng/noise.js';
import { encodePng } from '../viz/png.js';
import { reconstructionGrid } from '../viz/recon.js';

/** Stream of the fixed masking noise of the preview images (step 0, row = preview index). */
export const PREVIEW_NOISE_STREAM = Streams.preview;
/** reconstructions.png for the preview images with their fixed masking. */
export async function writePreview(
  model: MaskedAutoencoder,
  mc: MaeConfig,
  preview: ImageDataset,
  seed: number,
  device: DeviceSpec,
  out: string,
  sampling: MaskSampling = 'random',
): Promise<void> {
  await writeFileAtomic(
    join(out, 'reconstructions.png'),
    await reconstructionPng(model, mc, preview, seed, device, sampling),
  );
}

/**
 * The reconstruction figure (PNG bytes) of `images` through the model, masked by the noise of
 * stream PREVIEW_NOISE_STREAM at step 0 from `seed` (row = image index) at mc.mask_ratio, sampled
 * as the run samples its masks (`sampling`).
 */
export async function reconstructionPng(
  model: MaskedAutoencoder,
  mc: MaeConfig,
  images: ImageDataset,
  seed: number,
  device: DeviceSpec,
  sampling: MaskSampling = 'random',
): Promise<Uint8Array> {
  const N = images.length;
  const L = numPatches(mc);
  const idx = Array.from({ length: N }, (_, i) => i);
  const imgs = batchArray(images, idx);
  const scores = maskScores({
    sampling,
    seed,
    step: 0,
    N,
    side: gridSize(mc),
    maskRatio: mc.mask_ratio,
    stream: PREVIEW_NOISE_STREAM,
  });
  const masking = randomMasking(scores, N, L, mc.mask_ratio);
  if (masking.lenKeep !== lenKeep(model.config)) throw new Error('the masking does not match the model');
  const r = await model.forward(batchTensor(images, idx, device), masking);
  const grid = reconstructionGrid(
    {
      imgs,
      pred: await r.pred.toFloat32Array(),
      mask: masking.mask,
      N,
      C: mc.in_chans,
      size: mc.img_size,
      patch: mc.patch_size,
      normPixLoss: mc.norm_pix_loss,
      mean: images.mean,
      std: images.std,
    },
    mc.img_size <= 64 ? 3 : 1,
  );
  return encodePng(grid);
}
