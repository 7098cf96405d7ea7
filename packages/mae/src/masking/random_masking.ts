// random_masking.ts: the official MaskedAutoencoderViT.random_masking, from given noise or a given
// shuffle. Per row: ids_shuffle = argsort(noise) ascending (small noise is kept), ids_restore =
// argsort(ids_shuffle), ids_keep = ids_shuffle[:len_keep], mask (1 = removed, 0 = kept) in the
// original patch order, i.e. mask[ids_shuffle[j]] = (j >= len_keep ? 1 : 0).
// Ids are Int32Array (row-major [N, L] or [N, len_keep]); toInt64 gives the I64 form the fixtures
// and torch use.
import { lenKeepFor } from '../config/model.js';
import { argsortRows, checkShape, invertPermutationRows } from './argsort.js';

export interface Masking {
  N: number;
  L: number;
  lenKeep: number;
  /** [N, L] */
  idsShuffle: Int32Array;
  /** [N, L] */
  idsRestore: Int32Array;
  /** [N, lenKeep] */
  idsKeep: Int32Array;
  /** [N, L], 1 = removed, 0 = kept */
  mask: Float32Array;
}

/** Masking from noise [N, L] (row-major) and mask_ratio, with len_keep = int(L * (1 - mask_ratio)). */
export function randomMasking(noise: ArrayLike<number>, N: number, L: number, maskRatio: number): Masking {
  checkShape(noise.length, N, L, 'noise');
  return maskingFromShuffle(argsortRows(noise, N, L), N, L, lenKeepFor(L, maskRatio));
}

/** Masking from a caller's ids_shuffle [N, L] (each row a permutation) and len_keep. */
export function maskingFromShuffle(
  idsShuffle: ArrayLike<number>,
  N: number,
  L: number,
  lenKeep: number,
): Masking {
  if (!Number.isInteger(lenKeep) || lenKeep < 0 || lenKeep > L) {
    throw new RangeError(`len_keep ${lenKeep} is outside 0..${L}`);
  }
  const idsRestore = invertPermutationRows(idsShuffle, N, L);
  const shuffle = Int32Array.from(idsShuffle);
  const idsKeep = new Int32Array(N * lenKeep);
  const mask = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    const base = n * L;
    idsKeep.set(shuffle.subarray(base, base + lenKeep), n * lenKeep);
    for (let j = lenKeep; j < L; j++) mask[base + shuffle[base + j]] = 1;
  }
  return { N, L, lenKeep, idsShuffle: shuffle, idsRestore, idsKeep, mask };
}

/** Masking from a caller's ids_restore [N, L] (as stored in the fixtures) and len_keep. */
export function maskingFromRestore(
  idsRestore: ArrayLike<number>,
  N: number,
  L: number,
  lenKeep: number,
): Masking {
  return maskingFromShuffle(invertPermutationRows(idsRestore, N, L), N, L, lenKeep);
}

/** Int32 ids widened to the I64 (torch.long) form. */
export function toInt64(ids: Int32Array): BigInt64Array {
  const out = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = BigInt(ids[i]);
  return out;
}

/** I64 ids narrowed to Int32 (throws if a value does not fit). */
export function fromInt64(ids: BigInt64Array): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (v < -2147483648n || v > 2147483647n) throw new RangeError(`id ${v} at ${i} does not fit in int32`);
    out[i] = Number(v);
  }
  return out;
}
