// memory.ts: the device memory a benchmark of the training step (bench/run.ts, TrainStep) needs,
// counted from the architecture tensor by tensor as the model allocates them (model/mae.ts,
// block.ts, layers.ts, masking/device.ts), each rounded up to the caching allocator's bucket:
//   state   f32 parameters, f32 gradients, the AdamW moments (f32, trainable part) and, for bf16,
//           the bf16 copies of the weights and gradients; the lr table of the schedule
//   images  the batch buffer, f32 [N, C, H, W]
//   step    every tensor one step creates: the masking, the activations the forward keeps for the
//           backward and the backward's temporaries; none is freed before the step ends
//           (freeAfter frees them together when it returns), so they add up
// The peak is state + images + step: every eager step, the first included, frees what it created
// when it returns (what the model keeps across steps is made untracked), so the next one, or the
// capture of a CUDA graph, reuses the same blocks. benchMemory adds, on the CPU, the host's copy of the images. Not
// counted: the process's own memory (code, JS heap), and on CUDA the context and library
// workspaces outside the allocator. The test compares the
// estimate with the allocator's measured peak on the CPU.
import type { DeviceSpec } from '@mae-cuda/native';
import { encoderTokens, lenKeep, type MaeConfig, mlpHidden, numPatches, patchDim } from '../config/model.js';
import { stateSpec } from '../init/state_spec.js';
import { FLAT_ROW, flatLayout } from '../model/flat_layout.js';
import type { Precision } from '../model/plan.js';

export interface StepMemory {
  /** parameters, gradients, AdamW moments, bf16 copies, lr table (bytes; independent of the batch) */
  readonly state: number;
  /** the image batch on the device */
  readonly images: number;
  /** every tensor one step creates */
  readonly step: number;
  /** the estimated peak: state + images + step */
  readonly peak: number;
}

const F32 = 4;
const I64 = 8;

/** The allocator's block for a request of n bytes (512 B minimum, then quarter-octave steps). */
export function bucketSize(n: number): number {
  if (n <= 512) return 512;
  let msb = Math.floor(Math.log2(n - 1)); // the top bit of n - 1, corrected for rounding
  if (2 ** msb > n - 1) msb--;
  else if (2 ** (msb + 1) <= n - 1) msb++;
  const step = 2 ** msb / 4;
  return Math.ceil(n / step) * step;
}

/** Bytes per image of each tensor one block allocates, forward and backward, on T tokens of width D. */
export function blockTensors(T: number, D: number, heads: number, hidden: number, act: number): number[] {
  const d = T * D * act;
  const h = T * hidden * act;
  const stat = T * F32;
  // forward: norm1 (y, mean, rstd), qkv, merged, lse, x1, norm2 (y, mean, rstd), fc1 out and pre, y
  const forward = [d, stat, stat, 3 * d, d, T * heads * F32, d, d, stat, stat, h, h, d];
  // backward: d pre (fc2's dx through the GELU, one fused GEMM: no d act), d h2, d x1 (norm2's dx
  // plus the residual's, one op), d merged, d qkv, d h1, d x (likewise)
  const backward = [h, d, d, d, 3 * d, d, d];
  return [...forward, ...backward];
}

/** Bytes per image of each tensor a step allocates outside the blocks. */
function restTensors(c: MaeConfig, act: number): number[] {
  const L = numPatches(c);
  const J = lenKeep(c);
  // with encoder_mask_token the encoder's tokens are all L (its few extra tensors of the token
  // insertion are not listed: the estimate is for the official model)
  const [Te, Td] = [1 + encoderTokens(c), 1 + L];
  const [D, Dd, P] = [c.embed_dim, c.decoder_embed_dim, patchDim(c)];
  const bf16 = act !== F32;
  const onlyBf16 = (...xs: number[]) => (bf16 ? xs : []);
  return [
    // noise, ids_restore, ids_shuffle, mask
    L * F32,
    L * I64,
    L * I64,
    L * F32,
    // the images in the compute dtype; patches, embedded, with positions, kept, with the cls token
    ...onlyBf16(c.in_chans * c.img_size ** 2 * act),
    ...[L * P, L * D, L * D, J * D, Te * D].map((x) => x * act),
    // encoder norm (latent, mean, rstd), decoder embedding, unshuffled tokens
    Te * D * act,
    Te * F32,
    Te * F32,
    Te * Dd * act,
    Td * Dd * act,
    // decoder norm (y, mean, rstd), prediction of all tokens, without cls, widened to f32
    Td * Dd * act,
    Td * F32,
    Td * F32,
    Td * P * act,
    L * P * act,
    ...onlyBf16(L * P * F32),
    // the loss: target, per-patch losses, normalised target
    L * P * F32,
    L * F32,
    L * P * F32,
    // backward: d pred (f32, then in the compute dtype), d full, the decoder head's and norm's dx,
    // d decoder embedding, its dx and the encoder norm's, d kept, d embedded
    L * P * F32,
    ...onlyBf16(L * P * act),
    ...[Td * P, Td * Dd, Td * Dd, Te * Dd, Te * D, Te * D, J * D, L * D].map((x) => x * act),
  ];
}

/** Scalars of a step (the loss and the count of removed patches; one block each, any batch). */
const STEP_SCALARS = 2;
/** Scalars held across steps: AdamW's hyper-parameters and schedule row, the noise seed and
 * counter, d loss / d loss. */
const STATE_SCALARS = 5;

/** Bytes per image of every tensor one training step allocates. */
export function stepTensors(c: MaeConfig, precision: Precision): number[] {
  const act = precision === 'bf16' ? 2 : F32;
  const block = (T: number, D: number, heads: number, depth: number) =>
    Array.from({ length: depth }, () => blockTensors(T, D, heads, mlpHidden(c, D), act)).flat();
  return [
    ...block(1 + encoderTokens(c), c.embed_dim, c.num_heads, c.depth),
    ...block(1 + numPatches(c), c.decoder_embed_dim, c.decoder_num_heads, c.decoder_depth),
    ...restTensors(c, act),
  ];
}

/** Bytes of the parameters, gradients, AdamW moments and bf16 copies, and the lr table. */
function stateBytes(c: MaeConfig, precision: Precision, steps: number): number {
  const layout = flatLayout(stateSpec(c).map((s) => [s.name, s] as const));
  const moments = layout.trainableRows * FLAT_ROW * F32;
  const buffers = [layout.total * F32, layout.total * F32, moments, moments, (steps + 2) * 3 * F32];
  if (precision === 'bf16') buffers.push(layout.total * 2, layout.total * 2);
  return buffers.reduce((a, b) => a + bucketSize(b), STATE_SCALARS * bucketSize(1));
}

/** The memory a benchmark of `batch` images at `precision` over `steps` steps needs (bytes). */
export function stepMemory(c: MaeConfig, batch: number, precision: Precision, steps = 0): StepMemory {
  const state = stateBytes(c, precision, steps);
  const images = bucketSize(batch * c.in_chans * c.img_size ** 2 * F32);
  const step = stepTensors(c, precision).reduce(
    (a, t) => a + bucketSize(batch * t),
    STEP_SCALARS * bucketSize(1),
  );
  return { state, images, step, peak: state + images + step };
}

/**
 * The bytes a benchmark of `batch` images on `device` needs: the peak on the device, plus on the
 * CPU the synthetic batch the host holds before uploading it (the same memory there).
 */
export function benchMemory(
  c: MaeConfig,
  batch: number,
  precision: Precision,
  device: DeviceSpec,
  steps = 0,
): number {
  const m = stepMemory(c, batch, precision, steps);
  return m.peak + (device === 'cpu' ? m.images : 0);
}

/** The largest batch whose benchMemory fits in `available` bytes (0 when not even one does). */
export function largestBatch(
  c: MaeConfig,
  precision: Precision,
  device: DeviceSpec,
  available: number,
  steps = 0,
): number {
  const fits = (b: number) => benchMemory(c, b, precision, device, steps) <= available;
  if (!fits(1)) return 0;
  let [lo, hi] = [1, 2];
  while (fits(hi) && hi < 2 ** 40) [lo, hi] = [hi, 2 * hi];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
