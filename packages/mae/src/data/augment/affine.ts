// affine.ts: PIL's Image.transform(size, Image.AFFINE, (a, b, c, d, e, f), Image.BICUBIC,
// fillcolor=fill) and Image.rotate(degrees, Image.BICUBIC, fillcolor=fill) (Pillow 9.4) on 8-bit HWC
// images with 1 ('L') or 3 ('RGB') channels: what timm's RandAugment shears, translates and rotates
// with. Transcribed from libImaging/Geometry.c (ImagingGenericTransform with affine_transform and
// bicubic_filter8 / bicubic_filter32RGB) and Image.rotate, in the same float64 operations in the same
// order, so the bytes are PIL's:
//   output pixel (x, y) samples the input at xx = a * (x + .5) + b * (y + .5) + c,
//   yy = d * (x + .5) + e * (y + .5) + f; outside [0, W) x [0, H) it keeps the fill colour; else
//   xx, yy -= .5, the 4 x 4 neighbourhood from floor(xx) - 1, floor(yy) - 1 (columns clamped to the
//   image, rows below the first clamped, rows past the last repeating the row before), the cubic
//   convolution with a = -1 (p1 = v2, p2 = v3 - v1, p3 = 2(v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4,
//   v = p1 + t(p2 + t(p3 + t p4))) along x then along y, then 0 when v <= 0, 255 when v >= 255, else
//   v truncated.
//   rotate: angle = degrees mod 360 (Python's float %); 0 is a copy; otherwise with r = -radians(angle)
//   the matrix [round(cos r, 15), round(sin r, 15), 0, round(-sin r, 15), round(cos r, 15), 0], its
//   offsets moved so that the rotation is about (W / 2, H / 2). round(v, 15) is Python's decimal
//   rounding (here Number(v.toFixed(15)): the same but for exact decimal ties, which a cosine does not
//   produce); Math.cos and Math.sin may differ from the C library's in the last bit, which the rounding
//   to 15 decimals removes.

/** PIL's Image.transform(AFFINE, m, BICUBIC, fillcolor=fill) of an HWC image, as a new array. */
export function affineBicubic(
  src: Uint8Array,
  W: number,
  H: number,
  C: number,
  m: readonly number[],
  fill: readonly number[],
): Uint8Array {
  const [a0, a1, a2, a3, a4, a5] = m as [number, number, number, number, number, number];
  const out = new Uint8Array(W * H * C);
  const xclip = (x: number) => (x < 0 ? 0 : x < W ? x : W - 1);
  const v = [0, 0, 0, 0];
  const cols = [0, 0, 0, 0];
  const rows = [0, 0, 0, 0];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * C;
      const xin = x + 0.5;
      const yin = y + 0.5;
      let xx = a0 * xin + a1 * yin + a2;
      let yy = a3 * xin + a4 * yin + a5;
      if (!(xx >= 0 && xx < W && yy >= 0 && yy < H)) {
        for (let c = 0; c < C; c++) out[o + c] = fill[c]!;
        continue;
      }
      xx -= 0.5;
      yy -= 0.5;
      const ix = Math.floor(xx);
      const iy = Math.floor(yy);
      const dx = xx - ix;
      const dy = yy - iy;
      for (let k = 0; k < 4; k++) cols[k] = xclip(ix - 1 + k);
      // the first row clamped; a later row outside the image repeats the one before
      rows[0] = iy - 1 < 0 ? 0 : iy - 1 < H ? iy - 1 : H - 1;
      for (let k = 1; k < 4; k++) rows[k] = iy - 1 + k >= 0 && iy - 1 + k < H ? iy - 1 + k : -1;
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < 4; k++) {
          if (rows[k] === -1) {
            v[k] = v[k - 1]!;
            continue;
          }
          const r = rows[k]! * W;
          v[k] = cubic(
            src[(r + cols[0]!) * C + c]!,
            src[(r + cols[1]!) * C + c]!,
            src[(r + cols[2]!) * C + c]!,
            src[(r + cols[3]!) * C + c]!,
            dx,
          );
        }
        const s = cubic(v[0]!, v[1]!, v[2]!, v[3]!, dy);
        out[o + c] = s <= 0 ? 0 : s >= 255 ? 255 : Math.trunc(s);
      }
    }
  }
  return out;
}

/** Geometry.c's BICUBIC macro (a = -1), in its order of operations. */
function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

/** Python's round(v, 15). */
const round15 = (v: number): number => Number(v.toFixed(15));

/** Image.rotate's affine matrix for `degrees` of a W x H image, or undefined where PIL copies. */
export function rotateMatrix(degrees: number, W: number, H: number): number[] | undefined {
  let angle = degrees % 360;
  if (angle !== 0 && angle < 0) angle += 360; // Python's float modulo takes the divisor's sign
  if (angle === 0) return undefined;
  // 90, 180 and 270 are transposes in PIL; RandAugment's rotations stay within 30 degrees
  if (angle === 90 || angle === 180 || angle === 270)
    throw new RangeError(`rotate: ${degrees} degrees is a transpose, not supported`);
  const r = -(angle * (Math.PI / 180));
  const m = [
    round15(Math.cos(r)),
    round15(Math.sin(r)),
    0.0,
    round15(-Math.sin(r)),
    round15(Math.cos(r)),
    0.0,
  ];
  const [cx, cy] = [W / 2.0, H / 2.0];
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  m[2] = a * -cx + b * -cy + c + cx;
  m[5] = d * -cx + e * -cy + f + cy;
  return m;
}

/** Image.rotate(degrees, BICUBIC, fillcolor=fill) of an HWC image, as a new array. */
export function rotateBicubic(
  src: Uint8Array,
  W: number,
  H: number,
  C: number,
  degrees: number,
  fill: readonly number[],
): Uint8Array {
  const m = rotateMatrix(degrees, W, H);
  return m ? affineBicubic(src, W, H, C, m, fill) : src.slice();
}
