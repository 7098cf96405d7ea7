// dataset.ts: an in-memory image dataset: raw pixels in [0, 1] (N x [C, H, W], row-major) and the
// per-channel mean/std of the official pipeline's transforms.Normalize, applied when images are
// read: x_norm = (x - mean[c]) / std[c]. Subsets share the pixel storage.
export interface ImageDatasetInit {
  name: string;
  /** [C, H, W] of one image */
  shape: readonly [number, number, number];
  /** N * C * H * W values in [0, 1] */
  pixels: Float32Array;
  labels?: Uint8Array;
  /** per channel */
  mean: readonly number[];
  std: readonly number[];
}

export class ImageDataset {
  readonly name: string;
  readonly shape: readonly [number, number, number];
  readonly length: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  private readonly pixels: Float32Array;
  private readonly labels: Uint8Array | undefined;

  constructor(init: ImageDatasetInit) {
    const [C, H, W] = init.shape;
    const per = C * H * W;
    if (![C, H, W].every((d) => Number.isInteger(d) && d > 0))
      throw new Error(`dataset ${init.name}: invalid image shape [${init.shape.join(', ')}]`);
    if (init.pixels.length % per !== 0)
      throw new Error(
        `dataset ${init.name}: ${init.pixels.length} values are not a whole number of [${C}, ${H}, ${W}] images`,
      );
    if (init.mean.length !== C || init.std.length !== C)
      throw new Error(`dataset ${init.name}: mean and std need ${C} values (one per channel)`);
    if (!init.std.every((s) => s > 0)) throw new Error(`dataset ${init.name}: std must be positive`);
    this.name = init.name;
    this.shape = init.shape;
    this.pixels = init.pixels;
    this.labels = init.labels;
    this.length = init.pixels.length / per;
    this.mean = init.mean;
    this.std = init.std;
  }

  /** Values per image, C * H * W. */
  get imageSize(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  /** The raw pixels ([0, 1]) of image i. */
  raw(i: number): Float32Array {
    this.check(i);
    const n = this.imageSize;
    return this.pixels.subarray(i * n, (i + 1) * n);
  }

  label(i: number): number | undefined {
    this.check(i);
    return this.labels?.[i];
  }

  /** Writes the normalised image i into out at offset (C * H * W values). */
  readNormalized(i: number, out: Float32Array, offset = 0): void {
    const src = this.raw(i);
    const [C, H, W] = this.shape;
    const hw = H * W;
    for (let c = 0; c < C; c++) {
      const m = this.mean[c]!;
      const s = this.std[c]!;
      for (let j = 0; j < hw; j++) out[offset + c * hw + j] = (src[c * hw + j]! - m) / s;
    }
  }

  /**
   * The images with `channels` channels: grey images given to an RGB model as PIL's
   * convert('RGB') does (each channel the grey value, with the grey mean and std). A copy.
   */
  withChannels(channels: number): ImageDataset {
    const [C, H, W] = this.shape;
    if (channels === C) return this;
    if (C !== 1)
      throw new Error(`dataset ${this.name}: cannot turn ${C}-channel images into ${channels} channels`);
    const hw = H * W;
    const pixels = new Float32Array(this.length * channels * hw);
    for (let i = 0; i < this.length; i++) {
      const src = this.pixels.subarray(i * hw, (i + 1) * hw);
      for (let c = 0; c < channels; c++) pixels.set(src, (i * channels + c) * hw);
    }
    return new ImageDataset({
      name: this.name,
      shape: [channels, H, W],
      pixels,
      ...(this.labels ? { labels: this.labels } : {}),
      mean: Array(channels).fill(this.mean[0]),
      std: Array(channels).fill(this.std[0]),
    });
  }

  /** Images start .. start + count - 1 as a dataset of their own (no copy). */
  subset(start: number, count: number): ImageDataset {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1)
      throw new RangeError(`subset(${start}, ${count}): start must be >= 0 and count >= 1`);
    if (start + count > this.length)
      throw new RangeError(
        `dataset ${this.name} has ${this.length} images; ${start} + ${count} asked for more`,
      );
    const n = this.imageSize;
    return new ImageDataset({
      name: this.name,
      shape: this.shape,
      pixels: this.pixels.subarray(start * n, (start + count) * n),
      labels: this.labels?.subarray(start, start + count),
      mean: this.mean,
      std: this.std,
    });
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new RangeError(`image ${i} is outside dataset ${this.name} (0..${this.length - 1})`);
  }
}
