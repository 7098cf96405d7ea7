// streamed.ts: a training set read from disk (--data PATH): an image source (sources/) decoded and
// augmented by the batch loader (RandomResizedCrop + flip, as main_pretrain.py, or another `aug`:
// augment/modes.ts) into uint8 batches,
// which go to the device as bytes and are normalised there (image_normalize_forward, with the
// dataset's mean and std: ImageNet's for RGB, MNIST's for grey, or given). Also the preview images
// for reconstructions.png, cropped with a fixed key, as an in-memory dataset.
import { type Device, type DeviceSpec, ops, Tensor } from '@mae-cuda/native';
import type { F32 } from '../../model/params.js';
import type { AugmentConfig } from '../augment/index.js';
import { AUGMENT_PLANS, type Augmentation } from '../augment/modes.js';
import { ImageDataset } from '../dataset.js';
import { MNIST_MEAN, MNIST_STD } from '../mnist.js';
import { type ImageSource, openSource, type SourceFormat } from '../sources/index.js';
import { BatchLoader } from './loader.js';
import type { BadDataPolicy } from './messages.js';
import { Prefetcher } from './prefetch.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** The official RandomResizedCrop's scale and ratio ranges. */
export const RRC_SCALE: [number, number] = [0.2, 1.0];
export const RRC_RATIO: [number, number] = [3 / 4, 4 / 3];
/** Images with more pixels are refused before decoding (decompression bombs): 16k x 16k. */
export const MAX_PIXELS = 16384 * 16384;
/** The epoch key of the preview crops (never a training epoch). */
const PREVIEW_EPOCH = 0x7fff_ffff;

export interface StreamedOptions {
  path: string;
  format?: SourceFormat;
  inputSize: number;
  channels: 1 | 3;
  seed: number;
  /** images per batch */
  batch: number;
  workers: number;
  /** batches decoded ahead of the step */
  prefetch: number;
  badData: BadDataPolicy;
  /** the training augmentation (default rrc-flip, the official one) */
  aug?: Augmentation;
  mean?: readonly number[];
  std?: readonly number[];
  /** train on the first `limit` samples only (all when absent) */
  limit?: number;
  /** page-lock the batch buffers for copies to a CUDA device (CUDA runs) */
  pinMemory?: boolean;
}

export class StreamedImages {
  readonly shape: readonly [number, number, number];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  private readonly norm = new Map<string, { mean: F32; std: F32 }>();

  private constructor(
    readonly source: ImageSource,
    readonly loader: BatchLoader,
    readonly options: StreamedOptions,
  ) {
    const c = options.channels;
    this.shape = [c, options.inputSize, options.inputSize];
    this.mean = options.mean ?? (c === 3 ? IMAGENET_MEAN : [MNIST_MEAN]);
    this.std = options.std ?? (c === 3 ? IMAGENET_STD : [MNIST_STD]);
    if (this.mean.length !== c || this.std.length !== c)
      throw new RangeError(`--mean and --std need ${c} values (one per channel) for this model`);
  }

  /** Opens the source (an empty or unreadable one is refused here) and starts the loader. */
  static async open(o: StreamedOptions): Promise<StreamedImages> {
    const source = await openSource(o.path, o.format);
    const { crop, flip, jitter } = AUGMENT_PLANS[o.aug ?? 'rrc-flip'];
    const augment: AugmentConfig = {
      inputSize: o.inputSize,
      channels: o.channels,
      scale: RRC_SCALE,
      ratio: RRC_RATIO,
      flip,
      ...(crop === 'random-resized' ? {} : { crop }),
      ...(jitter ? { jitter } : {}),
      maxPixels: MAX_PIXELS,
    };
    try {
      const loader = await BatchLoader.start({
        spec: source.spec,
        augment,
        seed: o.seed,
        workers: o.workers,
        batch: o.batch,
        // CUDA runs hold a batch's buffer until its asynchronous upload is done (after the step
        // before it on the stream): two more let the host run two steps ahead of the device
        // while `prefetch` batches still decode
        buffers: o.prefetch + 1 + (o.pinMemory ? 2 : 0),
        badData: o.badData,
        pin: o.pinMemory ?? false,
      });
      return new StreamedImages(source, loader, o);
    } catch (e) {
      await source.close();
      throw e;
    }
  }

  /** Whether the batch buffers are page-locked for CUDA uploads. */
  get pinned(): boolean {
    return this.loader.pinned;
  }

  get name(): string {
    return `${this.source.format}:${this.source.path}`;
  }
  get length(): number {
    const limit = this.options.limit;
    return limit && limit < this.source.length ? limit : this.source.length;
  }

  /** The batches of an epoch (dataset indices, in order), decoding ahead of the step. */
  feed(epoch: number, batches: readonly ArrayLike<number>[]): Prefetcher {
    return new Prefetcher(this.loader, epoch, batches, this.options.prefetch);
  }

  /** mean and std as f32 [C] tensors on `device` (made once per device). */
  normalisation(device: DeviceSpec | Device): { mean: F32; std: F32 } {
    const key = String(typeof device === 'string' ? device : `${device.type}:${device.index}`);
    let n = this.norm.get(key);
    if (!n) {
      const C = this.shape[0];
      n = {
        mean: Tensor.fromArray('f32', [C], Float32Array.from(this.mean), device),
        std: Tensor.fromArray('f32', [C], Float32Array.from(this.std), device),
      };
      this.norm.set(key, n);
    }
    return n;
  }

  /** A decoded batch as the model's normalised f32 [N, C, H, W] input on `device`. */
  toDevice(hwc: Uint8Array, count: number, device: DeviceSpec | Device): F32 {
    const [C, H, W] = this.shape;
    const u8 = Tensor.fromArray('u8', [count, H, W, C], hwc, device);
    const out = Tensor.empty('f32', [count, C, H, W], u8.device) as F32;
    const { mean, std } = this.normalisation(device);
    ops.image_normalize_forward(out, u8, mean, std);
    u8.dispose();
    return out;
  }

  /** `count` images from `start` (cropped with a fixed key) as an in-memory dataset in [0, 1]. */
  async previewDataset(start: number, count: number): Promise<ImageDataset> {
    const [C, H, W] = this.shape;
    const pixels = new Float32Array(count * C * H * W);
    for (let at = 0; at < count; at += this.options.batch) {
      const n0 = Math.min(this.options.batch, count - at);
      const indices = Array.from({ length: n0 }, (_, k) => (start + at + k) % this.length);
      const b = await this.loader.load(PREVIEW_EPOCH, indices);
      for (let n = 0; n < n0; n++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++)
            for (let c = 0; c < C; c++)
              pixels[(((at + n) * C + c) * H + y) * W + x] = b.pixels[((n * H + y) * W + x) * C + c]! / 255;
      b.release();
    }
    return new ImageDataset({ name: this.name, shape: this.shape, pixels, mean: this.mean, std: this.std });
  }

  async close(): Promise<void> {
    await this.loader.close();
    await this.source.close();
  }
}
