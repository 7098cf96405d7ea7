// mixup.ts: timm's Mixup in batch mode (mode='batch', correct_lam=True, as main_finetune.py builds
// it) with label smoothing: per batch, with probability `prob`, lam ~ Beta(alpha, alpha) of cutmix
// (chosen with switch_prob when both are on) or of mixup; cutmix pastes rand_bbox's box from the
// flipped batch and corrects lam to 1 - box area / image area; the targets are mixup_target's
// (one-hot with smoothing, mixed with the flipped batch's by lam). The draws come from the run's
// counter-based stream of the step (deterministic, resume-exact); the mixing is ops on the device.
import { ops, type Tensor } from '@mae-cuda/native';
import { empty } from '../model/layers.js';
import type { F32 } from '../model/params.js';
import { Streams } from '../rng/noise.js';
import { PhiloxStream } from '../rng/stream.js';

export interface MixupSettings {
  /** mixup's Beta alpha (0: off) */
  mixup: number;
  /** cutmix's Beta alpha (0: off) */
  cutmix: number;
  /** the probability of mixing a batch at all */
  prob: number;
  /** the probability of cutmix when both are on */
  switchProb: number;
  /** label smoothing */
  smoothing: number;
}

export interface Box {
  yl: number;
  yh: number;
  xl: number;
  xh: number;
}

/** One batch's draw: lam (1: not mixed) and cutmix's box. */
export interface MixDraw {
  lam: number;
  box?: Box;
}

export const mixupActive = (s: MixupSettings) => s.mixup > 0 || s.cutmix > 0;

/** Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 boosted by U^(1/shape)). */
function gamma(shape: number, rng: PhiloxStream): number {
  if (shape < 1) return gamma(shape + 1, rng) * (1 - rng.uniform()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = rng.normal();
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - rng.uniform();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) of two Gammas. */
export function betaSample(a: number, b: number, rng: PhiloxStream): number {
  const x = gamma(a, rng);
  return x / (x + gamma(b, rng));
}

/** timm's rand_bbox (no margin) for an H x W image at lam, with the centre (cy, cx) given. */
export function randBbox(H: number, W: number, lam: number, cy: number, cx: number): Box {
  const ratio = Math.sqrt(1 - lam);
  const [cutH, cutW] = [Math.trunc(H * ratio), Math.trunc(W * ratio)];
  const clip = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const [hh, hw] = [Math.floor(cutH / 2), Math.floor(cutW / 2)];
  return { yl: clip(cy - hh, H), yh: clip(cy + hh, H), xl: clip(cx - hw, W), xh: clip(cx + hw, W) };
}

/** cutmix_bbox_and_lam's correction: 1 - the box's share of the image. */
export const boxLam = (b: Box, H: number, W: number) => 1 - ((b.yh - b.yl) * (b.xh - b.xl)) / (H * W);

/** Mixup._params_per_batch then the box: the draw of training step `step`. */
export function drawMix(s: MixupSettings, seed: number, step: number, H: number, W: number): MixDraw {
  if (!mixupActive(s)) return { lam: 1 };
  const rng = new PhiloxStream(seed, Streams.mixupBase + step);
  if (!(rng.uniform() < s.prob)) return { lam: 1 };
  const cut = s.mixup > 0 && s.cutmix > 0 ? rng.uniform() < s.switchProb : s.cutmix > 0;
  const alpha = cut ? s.cutmix : s.mixup;
  const lam = betaSample(alpha, alpha, rng);
  if (!cut) return { lam };
  const cy = Math.floor(rng.uniform() * H);
  const cx = Math.floor(rng.uniform() * W);
  const box = randBbox(H, W, lam, cy, cx);
  return { lam: boxLam(box, H, W), box };
}

/**
 * The batch mixed as the draw says (a new tensor; imgs itself when lam is 1, as timm returns it
 * untouched) and its soft targets [N, K].
 */
export function mixBatch(
  imgs: F32,
  labels: Tensor<'i64'>,
  classes: number,
  draw: MixDraw,
  smoothing: number,
): { imgs: F32; targets: F32 } {
  const N = imgs.shape[0]!;
  const targets = empty([N, classes], imgs);
  const off = smoothing / classes;
  ops.mixup_target_forward(targets, labels, draw.lam, 1 - smoothing + off, off);
  if (draw.lam === 1) return { imgs, targets };
  const out = empty(imgs.shape, imgs);
  if (draw.box) {
    const { yl, yh, xl, xh } = draw.box;
    ops.cutmix_forward(out, imgs, yl, yh, xl, xh);
  } else ops.mixup_forward(out.view([N, imgs.numel / N]), imgs.view([N, imgs.numel / N]), draw.lam);
  return { imgs: out, targets };
}
