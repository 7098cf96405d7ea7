// random.ts: the augmentation randomness of one sample, a function of (seed, epoch, index) alone, so
// the same sample gets the same crop and flip on any machine and with any number of workers or ranks.
// Block b of sample `index` in `epoch` is philox4x32_10([b, index, epoch, stream], key) with
// key = seedKey(seed) and stream Streams.augment (the crop and flip; fine-tuning's RandAugment and
// random erasing draw from their own streams, so adding them changes no crop); its four words are
// consumed in order, b = 0, 1, 2, ...; each uniform takes two words a, b as PhiloxStream does:
// ((a >>> 5) * 2^26 + (b >>> 6)) * 2^-53, in [0, 1).
import { Streams } from '../../rng/noise.js';
import { philox4x32 } from '../../rng/philox.js';
import { seedKey, u32 } from '../../rng/seed.js';

/** A generator of float64 uniforms in [0, 1) keyed on (seed, epoch, index, stream); see the header. */
export function sampleRandom(
  seed: bigint | number,
  epoch: number,
  index: number,
  stream: number = Streams.augment,
): () => number {
  const key = seedKey(seed);
  const counter: [number, number, number, number] = [
    0,
    u32(index, 'index'),
    u32(epoch, 'epoch'),
    u32(stream, 'stream'),
  ];
  const words = [0, 0, 0, 0];
  let used = 4;
  const next = (): number => {
    if (used === 4) {
      philox4x32(counter, key, words);
      counter[0] = (counter[0] + 1) >>> 0;
      used = 0;
    }
    return words[used++];
  };
  return () => {
    const a = next() >>> 5;
    const b = next() >>> 6;
    return (a * 67108864 + b) * 2 ** -53;
  };
}
