// flops.ts: the model FLOPs of an MAE training step per image, counted from the architecture as
// the official paper and the GPU literature count them: 2 m n k per matrix product; the patch
// embedding on all L patches; the encoder on the 1 + len_keep kept tokens (on all 1 + L with
// encoder_mask_token, Table 1c's ablation, which the decoder embeds too); the decoder on all
// 1 + L tokens; attention's QK^T and PV included; the prediction head on every decoder token; a
// training step is 3x the forward (the backward is twice the forward). Norms, activations, the
// loss and the optimiser are not counted (they are memory-bound and small).
import { encoderTokens, type MaeConfig, numPatches, patchDim } from '../config/model.js';

/** FLOPs of one pre-norm ViT block on T tokens of width D with an MLP hidden width H. */
export function blockFlops(T: number, D: number, H: number): number {
  const linear = 2 * T * D * (3 * D + D + 2 * H); // qkv, proj, fc1 + fc2
  const attention = 2 * 2 * T * T * D; // QK^T and PV over all heads
  return linear + attention;
}

export interface StepFlops {
  /** forward FLOPs per image, by part */
  readonly parts: {
    readonly patchEmbed: number;
    readonly encoder: number;
    readonly decoderEmbed: number;
    readonly decoder: number;
    readonly head: number;
  };
  readonly forward: number;
  /** forward + backward (3x the forward) */
  readonly step: number;
}

export function stepFlops(c: MaeConfig): StepFlops {
  const L = numPatches(c);
  const P = patchDim(c);
  const Te = 1 + encoderTokens(c);
  const Td = 1 + L;
  const D = c.embed_dim;
  const Dd = c.decoder_embed_dim;
  const hidden = (d: number) => Math.trunc(d * c.mlp_ratio);
  const parts = {
    patchEmbed: 2 * L * P * D,
    encoder: c.depth * blockFlops(Te, D, hidden(D)),
    decoderEmbed: 2 * Te * D * Dd,
    decoder: c.decoder_depth * blockFlops(Td, Dd, hidden(Dd)),
    head: 2 * Td * Dd * P,
  };
  const forward = Object.values(parts).reduce((a, b) => a + b, 0);
  return { parts, forward, step: 3 * forward };
}
