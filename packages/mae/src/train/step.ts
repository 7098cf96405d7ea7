// step.ts: one whole training step with no host values and no host synchronisation: masking noise
// from the device counter, masking, forward, loss, backward, the optimiser update from the device
// schedule, and the counter's advance, all enqueued on the model's device. On CUDA the first run
// is eager (it fills the allocator's cache and creates the constant tensors), the second is
// captured into a CUDA graph, and every run from then on is one graph launch; `graph: false` keeps
// every run eager (for debugging, and always on the CPU, where the same body runs). The images
// buffer is written by the caller before each run; the loss tensor a run returns is overwritten by
// the next run.
import { CudaGraph, DeviceEvent, freeAfter, ops, Stream, Tensor, withCurrentStream } from '@mae-cuda/native';
import { lenKeep, type MaeConfig, numPatches } from '../config/model.js';
import type { GradOverlap } from '../dist/collective.js';
import { maskingOnDevice, type NoiseCounter } from '../masking/device.js';
import type { MaskedAutoencoder } from '../model/mae.js';
import type { F32 } from '../model/params.js';

/** What the step needs of the optimiser: an update that reads its lr and step on the device. */
export interface DeviceUpdate {
  updateOnDevice(): void;
  /** the host's count of n updates a replayed graph made */
  countScheduled(n: number): void;
}

export interface TrainStepOptions {
  /** capture a CUDA graph after the first step (CUDA only; default true) */
  readonly graph?: boolean;
  /**
   * data parallelism: averages a tensor over the world on the device (NCCL), called on the
   * gradients after the backward and on the loss, inside the step (and its graph)
   */
  readonly mean?: (t: F32) => void;
  /**
   * with `mean`: all-reduce the gradients in buckets as the backward finishes them, on a side
   * stream (CUDA), instead of one flat all-reduce after it
   */
  readonly overlap?: (main: Stream) => GradOverlap;
  /**
   * mask by scores the host writes before each run (loadScores: block and grid sampling) instead
   * of the device counter's noise (random sampling); the counter still advances
   */
  readonly hostScores?: boolean;
}

export type StepPhase = 'eager' | 'capture' | 'replay';

export class TrainStep {
  readonly imgs: F32;
  /** [batch, L] masking scores written by the host (hostScores), else undefined */
  private readonly scores?: F32;
  /** the uint8 batch of loadImagesU8 (made on first use) */
  private u8?: Tensor<'u8'>;
  private readonly stream?: Stream;
  private readonly overlap?: GradOverlap;
  private graph?: CudaGraph;
  private graphLoss?: F32;
  private runs = 0;
  /** how each run so far was executed (tests and the GPU check read it) */
  readonly phases: StepPhase[] = [];

  constructor(
    readonly model: MaskedAutoencoder,
    readonly optim: DeviceUpdate,
    readonly counter: NoiseCounter,
    readonly batch: number,
    readonly opts: TrainStepOptions = {},
  ) {
    const c: MaeConfig = model.config;
    const dev = model.params.get('pos_embed').device;
    if (counter.ctr.device.type !== dev.type || counter.ctr.device.index !== dev.index)
      throw new TypeError('TrainStep: the noise counter must be on the model device');
    if (!Number.isInteger(batch) || batch < 1)
      throw new RangeError(`batch must be a positive integer, got ${batch}`);
    this.imgs = Tensor.zeros('f32', [batch, c.in_chans, c.img_size, c.img_size], dev);
    if (opts.hostScores) this.scores = Tensor.zeros('f32', [batch, numPatches(c)], dev);
    if (dev.type === 'cuda') this.stream = Stream.create(dev);
    if (opts.mean && opts.overlap) this.overlap = opts.overlap(this.stream ?? Stream.create('cpu'));
  }

  get usesGraph(): boolean {
    return this.stream !== undefined && this.opts.graph !== false;
  }

  /** The step's device work, in order. */
  private body(): F32 {
    const c = this.model.config;
    const noise = this.scores ?? this.counter.noise(this.batch, numPatches(c));
    const masking = maskingOnDevice(noise, lenKeep(c));
    const loss = this.model.forwardOnDevice(this.imgs, masking);
    const params = this.model.params;
    const ov = this.overlap;
    this.model.backward(1, ov ? (names) => ov.bucket(names.map((n) => params.grad(n))) : undefined);
    if (ov) ov.join();
    else this.opts.mean?.(params.flatGrads);
    this.opts.mean?.(loss);
    this.optim.updateOnDevice();
    this.counter.advance();
    return loss;
  }

  /**
   * An eager run. The tensors it creates are freed when it returns (all but the loss; what the
   * model keeps across steps it creates untracked), which keeps the footprint of an eager loop, and
   * of the capture that follows the first run, at one step's.
   */
  private eager(): F32 {
    this.phases.push('eager');
    const body = () =>
      freeAfter(
        () => this.body(),
        (loss) => [loss],
      );
    return this.stream ? withCurrentStream(this.stream, body) : body();
  }

  /** Enqueues one step; returns its loss tensor ([1], on the device). */
  run(): F32 {
    this.runs++;
    const stream = this.stream;
    if (!stream || !this.usesGraph || this.runs === 1) return this.eager();
    if (!this.graph) {
      const { graph, result } = CudaGraph.capture(stream, () => this.body());
      this.graph = graph;
      this.graphLoss = result;
      this.phases.push('capture');
    } else {
      this.optim.countScheduled(1); // throws before launching past the schedule's end
      this.phases.push('replay');
    }
    this.graph.launch(stream);
    return this.graphLoss!;
  }

  /** Writes a batch into the image buffer, ordered with the step's work (async on CUDA). */
  loadImages(host: Float32Array): void {
    if (host.length !== this.imgs.numel)
      throw new TypeError(`TrainStep.loadImages: ${host.length} values for [${this.imgs.shape.join(', ')}]`);
    this.imgs.handle.copyFromHost(host, this.stream?.handle ?? null);
  }

  get usesHostScores(): boolean {
    return this.scores !== undefined;
  }

  /** Writes the masking scores of the next run ([batch, L], maskScores), ordered with the step's work. */
  loadScores(host: Float32Array): void {
    if (!this.scores) throw new Error('TrainStep.loadScores: the step was built without hostScores');
    if (host.length !== this.scores.numel)
      throw new TypeError(
        `TrainStep.loadScores: ${host.length} values for [${this.scores.shape.join(', ')}]`,
      );
    this.scores.handle.copyFromHost(host, this.stream?.handle ?? null);
  }

  /**
   * Writes the images from decoded uint8 pixels ([N, H, W, C], as the batch loader makes them):
   * they go to the device as bytes, and image_normalize_forward (ToTensor + Normalize with the
   * device tensors mean and std, [C]) lays them out as the model's f32 [N, C, H, W] input, on the
   * step's stream. On CUDA the copy is asynchronous (a DMA when the loader's buffers are pinned):
   * the returned event completes when `hwc` has been read, and the buffer must not change before
   * (releaseWhenCopied); on the CPU the copy is done on return (undefined).
   */
  loadImagesU8(hwc: Uint8Array, mean: F32, std: F32): DeviceEvent | undefined {
    const [N, C, H, W] = this.imgs.shape as [number, number, number, number];
    if (hwc.length !== N * H * W * C)
      throw new TypeError(`TrainStep.loadImagesU8: ${hwc.length} bytes for [${N}, ${H}, ${W}, ${C}]`);
    this.u8 ??= Tensor.zeros('u8', [N, H, W, C], this.imgs.device);
    this.u8.handle.copyFromHost(hwc, this.stream?.handle ?? null);
    const copied = this.stream ? DeviceEvent.create(this.imgs.device).record(this.stream) : undefined;
    const normalise = () => ops.image_normalize_forward(this.imgs, this.u8!, mean, std);
    if (this.stream) withCurrentStream(this.stream, normalise);
    else normalise();
    return copied;
  }

  /** The step's stream (CUDA), or undefined on the CPU. */
  get queue(): Stream | undefined {
    return this.stream;
  }

  /** Kernels and copies in the captured graph (0 before the capture). */
  get graphNodes(): number {
    return this.graph?.numNodes ?? 0;
  }

  /** Waits for the step's work (the stream, on CUDA). */
  async synchronize(): Promise<void> {
    await this.stream?.synchronizeAsync();
  }

  /** Frees the graph and its memory; the step can run again (eagerly first). */
  dispose(): void {
    this.graph?.destroy();
    this.graph = undefined;
    this.graphLoss = undefined;
    this.runs = 0;
  }
}

/**
 * Losses kept on the device until read: record() copies a step's loss into the next slot on the
 * step's stream (no host synchronisation); drain() reads every recorded loss back at once.
 */
export class LossLog<M> {
  private readonly buf: F32;
  private readonly pending: M[] = [];

  constructor(
    readonly capacity: number,
    like: F32,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LossLog: capacity must be a positive integer, got ${capacity}`);
    this.buf = Tensor.zeros(like.dtype, [capacity], like.device) as F32;
  }

  get size(): number {
    return this.pending.length;
  }
  get full(): boolean {
    return this.pending.length === this.capacity;
  }

  record(loss: F32, meta: M, stream?: Stream): void {
    if (this.full) throw new Error('LossLog: full; drain() it first');
    this.buf.view([1], this.pending.length).copyFrom(loss, stream);
    this.pending.push(meta);
  }

  /** The recorded losses with their metadata, in order; empties the log. */
  async drain(): Promise<{ loss: number; meta: M }[]> {
    if (this.pending.length === 0) return [];
    const values = await this.buf.toArray();
    const out = this.pending.map((meta, i) => ({ loss: values[i]!, meta }));
    this.pending.length = 0;
    return out;
  }
}

/**
 * Calls `release` once `copied` (loadImagesU8's event) has completed: at once when there is no event
 * (a CPU copy), else polled every `pollMs` (the event loop stays free meanwhile).
 */
export function releaseWhenCopied(copied: DeviceEvent | undefined, release: () => void, pollMs = 0.5): void {
  if (!copied || copied.done()) {
    copied?.destroy();
    release();
    return;
  }
  setTimeout(() => releaseWhenCopied(copied, release, pollMs), pollMs);
}
