// pos_embed.ts: the official util/pos_embed.py interpolate_pos_embed: when a checkpoint's grid of
// patches differs from the model's, the position embedding's patch rows are resized as an image
// of D channels by torch.nn.functional.interpolate(mode='bicubic', align_corners=False) (cubic
// convolution with A = -0.75, source index (dst + 0.5) * in / out - 0.5, borders clamped, no
// antialiasing), and the cls row is kept. Computed in f64, rounded to f32.

const A = -0.75;
/** torch's cubic_convolution1 (|x| <= 1) and cubic_convolution2 (1 < |x| < 2). */
const conv1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
const conv2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/** The 4 taps (first source index, weights) of output index `dst` of a resize from n to m. */
function taps(dst: number, n: number, m: number): { at: number; w: number[] } {
  const real = (n / m) * (dst + 0.5) - 0.5;
  const at = Math.floor(real);
  const t = real - at;
  return { at: at - 1, w: [conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)] };
}

/** Rows [1 + G*G, D] (cls first, then the grid row by row) resized to [1 + g*g, D]. */
export function interpolatePosEmbed(pos: Float32Array, D: number, G: number, g: number): Float32Array {
  if (pos.length !== (1 + G * G) * D)
    throw new RangeError(`interpolatePosEmbed: ${pos.length} values are not ${1 + G * G} rows of ${D}`);
  const out = new Float32Array((1 + g * g) * D);
  out.set(pos.subarray(0, D));
  const clamp = (i: number) => Math.min(G - 1, Math.max(0, i));
  const row = (y: number, x: number) => (1 + clamp(y) * G + clamp(x)) * D;
  for (let oy = 0; oy < g; oy++) {
    const ty = taps(oy, G, g);
    for (let ox = 0; ox < g; ox++) {
      const tx = taps(ox, G, g);
      for (let d = 0; d < D; d++) {
        let v = 0;
        for (let j = 0; j < 4; j++) {
          let h = 0;
          for (let i = 0; i < 4; i++) h += tx.w[i]! * pos[row(ty.at + j, tx.at + i) + d]!;
          v += ty.w[j]! * h;
        }
        out[(1 + oy * g + ox) * D + d] = v;
      }
    }
  }
  return out;
}
