// device.ts: random masking computed by ops where the tensors live (the GPU included): the noise
// (Philox, the same words as rng/noise.ts's batchNoise), then ids_restore, ids_shuffle (ids_keep is
// its first len_keep columns) and the mask, equal to the host's randomMasking bit for bit (stable
// ranks, ties broken by index). The counter lives in a device tensor, so a captured step can
// advance it itself.
import { type DeviceSpec, ops, Tensor } from '@mae-cuda/native';
import { seedKey, u32 } from '../rng/seed.js';

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

/** The Philox key and counter (step, stream, row offset) of the masking noise, on a device. */
export class NoiseCounter {
  /** i32 [2]: the seed's two u32 words (as i32 bits) */
  readonly seed: Tensor<'i32'>;
  /** i32 [3]: step, stream, first global row of the batch */
  readonly ctr: Tensor<'i32'>;

  constructor(seed: bigint | number, stream: number, step: number, rowOffset: number, device: DeviceSpec) {
    this.seed = Tensor.fromArray('i32', [2], Int32Array.from(seedKey(seed)), device);
    this.ctr = Tensor.fromArray('i32', [3], NoiseCounter.words(stream, step, rowOffset), device);
  }

  private static words(stream: number, step: number, rowOffset: number): Int32Array {
    // noise_step_forward counts in float32 arithmetic: exact below 2^24
    for (const [v, what] of [
      [step, 'step'],
      [stream, 'stream'],
      [rowOffset, 'row offset'],
    ] as const)
      if (u32(v, what) >= 2 ** 24) throw new RangeError(`device noise: ${what} must be below 2^24, got ${v}`);
    return Int32Array.of(step, stream, rowOffset);
  }

  /** Sets the counter from the host (eager steps; a captured step advances it with advance()). */
  set(stream: number, step: number, rowOffset: number): void {
    this.ctr.write(NoiseCounter.words(stream, step, rowOffset));
  }

  /** noise [N, L]: row n is batchNoise's row (rowOffset + n) at the counter's step and stream. */
  noise(N: number, L: number): Tensor<'f32'> {
    const out = Tensor.empty('f32', [N, L], this.ctr.device);
    ops.philox_noise_forward(out, this.seed, this.ctr);
    return out;
  }

  /** step += 1 on the device. */
  advance(): void {
    ops.noise_step_forward(this.ctr, this.ctr);
  }
}
