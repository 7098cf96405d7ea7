// stream.ts: a sequential Philox stream for host-side initialisation, deterministic from
// (seed, stream id). Block b of stream s is philox4x32_10([b mod 2^32, floor(b / 2^32), 0, s], key)
// with key = seedKey(seed); its four words are consumed in order.
//   nextU32()  the next word
//   uniform()  f64 in [0, 1) with 53 random bits: ((a >>> 5) * 2^26 + (b >>> 6)) * 2^-53 (a, b: next two words)
//   normal()   f64 standard normal by Box-Muller on two uniforms u1, u2:
//              r = sqrt(-2 ln(1 - u1)), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2); z0 first, then z1
import { philox4x32 } from './philox.js';
import { seedKey, u32 } from './seed.js';

const TWO_P32 = 0x100000000;

export class PhiloxStream {
  private readonly key: [number, number];
  private readonly stream: number;
  private block = 0;
  private readonly words = [0, 0, 0, 0];
  private used = 4;
  private spare: number | undefined;

  constructor(seed: bigint | number, stream: number) {
    this.key = seedKey(seed);
    this.stream = u32(stream, 'stream');
  }

  /** The next 32-bit word. */
  nextU32(): number {
    if (this.used === 4) {
      const b = this.block++;
      philox4x32([b % TWO_P32, Math.floor(b / TWO_P32), 0, this.stream], this.key, this.words);
      this.used = 0;
    }
    return this.words[this.used++];
  }

  /** A float64 uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) * 2 ** -53;
  }

  /** A float64 standard normal (Box-Muller, pairs: the cosine value, then the sine value). */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    const t = 2 * Math.PI * u2;
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
}
