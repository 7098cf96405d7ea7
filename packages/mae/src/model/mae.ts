// mae.ts: MaskedAutoencoderViT as the official models_mae.py, forward (encoder on the kept tokens,
// or on all with mask tokens: tokens.ts; decoder on all, loss on the removed patches) and backward,
// on any backend the ops run on.
// Masking is given (from noise or ids); the model keeps what its backward needs until the next
// forward.
import { type Device, deviceToString, ops, sameDevice, Tensor, untracked } from '@mae-cuda/native';
import { gridSize, lenKeep, type MaeConfig, numPatches, patchDim } from '../config/model.js';
import type { DeviceMasking } from '../masking/device.js';
import { type Masking, toInt64 } from '../masking/random_masking.js';
import { type BlockParams, type BlockSaved, blockBackward, blockForward, blockParams } from './block.js';
import { embedPatches, patchEmbedParams } from './embed.js';
import {
  empty,
  type LinearParams,
  layerNormBackward,
  layerNormForward,
  linearBackward,
  linearBackwardParams,
  linearForward,
  type NormParams,
  type NormSaved,
} from './layers.js';
import type { F32, ParamStore } from './params.js';
import { castInto, castTo, type Precision, type WeightSource, weightSource } from './plan.js';
import { Tokens } from './tokens.js';

export interface ForwardResult {
  /** the scalar loss on the host */
  loss: number;
  /** [N, L, p*p*C] */
  pred: F32;
  /** encoder output after the final norm, [N, 1 + keep, D] ([N, 1 + L, D] with encoder_mask_token) */
  latent: F32;
}

interface Saved {
  N: number;
  patches: F32;
  idsRestore: Tensor<'i64'>;
  idsShuffle: Tensor<'i64'>;
  enc: BlockSaved[];
  encNorm: NormSaved;
  latent: F32;
  dec: BlockSaved[];
  decNorm: NormSaved;
  decOut: F32;
  pred: F32;
  targetN: F32;
  mask: F32;
  count: F32;
}

export class MaskedAutoencoder {
  private readonly enc: BlockParams[];
  private readonly dec: BlockParams[];
  private readonly norm: NormParams;
  private readonly decNorm: NormParams;
  private readonly patchEmbed: LinearParams;
  private readonly decEmbed: LinearParams;
  private readonly decPred: LinearParams;
  /** the cls and mask tokens: how the encoder's and the decoder's inputs are made */
  private readonly tokens: Tokens;
  private saved?: Saved;
  /** d loss / d loss = lossScale, made once per scale so a captured backward copies no host data */
  private dloss?: { scale: number; t: F32 };

  /** where the layers read weights and write gradients (the store, or its bf16 copies) */
  private readonly w: WeightSource;
  /** the dtype activations are computed in */
  readonly computeDType: 'f32' | 'f64' | 'bf16';

  constructor(
    readonly config: MaeConfig,
    readonly params: ParamStore,
    readonly precision: Precision = 'f32',
  ) {
    const c = config;
    const eps = c.layer_norm_eps;
    this.w = weightSource(params, precision);
    this.computeDType = params.dtype === 'f64' ? 'f64' : precision;
    const w = this.w;
    const lin = (n: string): LinearParams => ({
      w: w.get(`${n}.weight`),
      b: w.get(`${n}.bias`),
      dw: w.grad(`${n}.weight`),
      db: w.grad(`${n}.bias`),
    });
    this.enc = Array.from({ length: c.depth }, (_, i) => blockParams(w, `blocks.${i}`, c.num_heads, eps));
    this.dec = Array.from({ length: c.decoder_depth }, (_, i) =>
      blockParams(w, `decoder_blocks.${i}`, c.decoder_num_heads, eps),
    );
    this.norm = { ...lin('norm'), eps };
    this.decNorm = { ...lin('decoder_norm'), eps };
    this.patchEmbed = patchEmbedParams(w, c);
    this.decEmbed = lin('decoder_embed');
    this.decPred = lin('decoder_pred');
    this.tokens = new Tokens(c, w);
  }

  /**
   * imgs [N, C, H, W] f32 on the model's device; masking for N rows of L patches, given on the host
   * (e.g. a fixture's noise) or as tensors on the model's device (maskingOnDevice).
   */
  async forward(imgs: F32, masking: Masking | DeviceMasking): Promise<ForwardResult> {
    const loss = this.forwardOnDevice(imgs, masking);
    return { loss: (await loss.toArray())[0]!, pred: this.saved!.pred, latent: this.saved!.latent };
  }

  /**
   * The forward pass without reading anything back: returns the loss as a [1] tensor on the
   * device (a captured step runs this). The model keeps what its backward needs.
   */
  forwardOnDevice(imgs: F32, masking: Masking | DeviceMasking): F32 {
    const c = this.config;
    this.checkImages(imgs);
    const [N, C] = imgs.shape as [number, number];
    const p = c.patch_size;
    const G = gridSize(c);
    const L = numPatches(c);
    const J = lenKeep(c);
    const P = patchDim(c);
    if (masking.N !== N || masking.L !== L || masking.lenKeep !== J)
      throw new TypeError(
        `masking is for ${masking.N} rows of ${masking.L} patches keeping ${masking.lenKeep}; the model needs ${N} x ${L} keeping ${J}`,
      );
    const { idsRestore, idsShuffle, mask } = this.maskTensors(masking, imgs.device);
    const imgs6 = imgs.view([N, C, G, p, G, p]);
    const x0 = castTo(imgs, this.computeDType) as F32; // the activations' dtype

    // encoder: patch embedding, positional embedding, masking (or mask tokens), cls token, blocks, norm
    const ids = { idsShuffle, idsRestore };
    const { patches, withPos: emb } = embedPatches(x0, c, this.patchEmbed, undefined);
    let x = this.tokens.encoderInput(emb, ids); // adds the position embedding
    const enc: BlockSaved[] = [];
    for (const bp of this.enc) {
      const r = blockForward(x, bp);
      enc.push(r.saved);
      x = r.y;
    }
    const { y: latent, saved: encNorm } = layerNormForward(x, this.norm);

    // decoder: embed, unshuffle with mask tokens (+ positional embedding), blocks, norm, prediction
    let u = this.tokens.decoderInput(linearForward(latent, this.decEmbed), ids);
    const dec: BlockSaved[] = [];
    for (const bp of this.dec) {
      const r = blockForward(u, bp);
      dec.push(r.saved);
      u = r.y;
    }
    const { y: decOut, saved: decNorm } = layerNormForward(u, this.decNorm);
    const full = linearForward(decOut, this.decPred);
    const predC = empty([N, L, P], x0);
    ops.slice_rows_forward(predC, full);
    const pred = castTo(predC, imgs.dtype) as F32; // the loss is computed in f32 (f64 in checks)

    // loss on the removed patches
    const target = empty([N, L, P], imgs);
    ops.patchify_forward(target.view([N, G, G, p, p, C]), imgs6);
    const lossRows = empty([N, L], imgs);
    const targetN = empty([N, L, P], imgs);
    ops.mae_loss_forward(lossRows, targetN, pred, target, c.norm_pix_loss ? 1 : 0, 1e-6);
    const loss = empty([1], imgs);
    const count = empty([1], imgs);
    ops.masked_mean_forward(loss, count, lossRows, mask);

    this.saved = {
      N,
      patches,
      idsRestore,
      idsShuffle,
      enc,
      encNorm,
      latent,
      dec,
      decNorm,
      decOut,
      pred,
      targetN,
      mask,
      count,
    };
    return loss;
  }

  /**
   * The encoder on every patch, unmasked (models_vit's forward_features before pooling): [N, 1 + L,
   * D] after the final norm (before it with `finalNorm` false: what models_vit's global pooling
   * averages), the cls token first and the patches in order. Keeps nothing for a backward.
   */
  encode(imgs: F32, finalNorm = true): F32 {
    this.checkImages(imgs);
    const c = this.config;
    const N = imgs.shape[0]!;
    const L = numPatches(c);
    const D = c.embed_dim;
    const x0 = castTo(imgs, this.computeDType) as F32;
    const { withPos } = embedPatches(x0, c, this.patchEmbed, this.w.get('pos_embed'));
    let x = empty([N, L + 1, D], x0);
    const pos = this.w.get('pos_embed');
    ops.prepend_token_forward(x, withPos, this.w.get('cls_token').view([D]), pos.view([D], 0));
    for (const bp of this.enc) x = blockForward(x, bp).y;
    return castTo(finalNorm ? layerNormForward(x, this.norm).y : x, imgs.dtype) as F32;
  }

  private checkImages(imgs: F32): void {
    const c = this.config;
    const [, C, Hh, Ww] = imgs.shape;
    if (imgs.dtype !== this.params.dtype)
      throw new TypeError(`imgs are ${imgs.dtype} but the model's parameters are ${this.params.dtype}`);
    if (imgs.shape.length !== 4 || C !== c.in_chans || Hh !== c.img_size || Ww !== c.img_size)
      throw new TypeError(
        `imgs must be [N, ${c.in_chans}, ${c.img_size}, ${c.img_size}] for this model, got [${imgs.shape.join(', ')}]`,
      );
  }

  /** The masking as tensors on the model's device (host masking is uploaded). */
  private maskTensors(m: Masking | DeviceMasking, dev: Device) {
    if (m.idsRestore instanceof Tensor) {
      const d = m as DeviceMasking;
      for (const [name, t] of [
        ['idsRestore', d.idsRestore],
        ['idsShuffle', d.idsShuffle],
        ['mask', d.mask],
      ] as const)
        if (!sameDevice(t.device, dev))
          throw new TypeError(
            `masking.${name} is on ${deviceToString(t.device)} but the images are on ${deviceToString(dev)}`,
          );
      if (this.params.dtype !== 'f32') throw new TypeError('device masking needs an f32 model');
      return { idsRestore: d.idsRestore, idsShuffle: d.idsShuffle, mask: d.mask as F32 };
    }
    const h = m as Masking;
    const { N, L } = h;
    const ids = (data: Int32Array) => Tensor.fromArray('i64', [N, L], toInt64(data), dev);
    return {
      idsRestore: ids(h.idsRestore),
      idsShuffle: ids(h.idsShuffle),
      mask: this.params.tensor([N, L], h.mask),
    };
  }

  /**
   * Backward of the last forward's loss (scaled by lossScale, e.g. 1/accum_iter); writes every
   * gradient. onReady(names) is called for each group of parameters (the decoder head, each
   * block, the tokens, the embeddings: every trainable one exactly once) right after their f32
   * gradients are final.
   */
  backward(lossScale = 1, onReady?: (names: readonly string[]) => void): void {
    const s = this.saved;
    if (!s) throw new Error('backward() needs a forward() first');
    const c = this.config;
    const { N } = s;
    const L = numPatches(c);
    const P = patchDim(c);
    if (this.dloss?.scale !== lossScale)
      this.dloss = { scale: lossScale, t: untracked(() => this.params.tensor([1], [lossScale])) }; // kept
    const dloss = this.dloss.t;
    const dpred = empty([N, L, P], s.pred);
    ops.mae_loss_backward(dpred, s.pred, s.targetN, s.mask, s.count, dloss);
    const dfull = empty([N, L + 1, P], s.decOut);
    ops.slice_rows_backward(dfull, castTo(dpred, this.computeDType) as F32);
    // with onReady, each group of gradients is announced as soon as the backward has written it
    // (f32, widened from bf16 first), so a data-parallel step can all-reduce it meanwhile
    const ready = (...prefixes: string[]) => {
      if (!onReady) return;
      const names = this.params.names().filter((n) => prefixes.some((p) => n === p || n.startsWith(`${p}.`)));
      if (this.computeDType === 'bf16')
        for (const n of names) castInto(this.params.grad(n), this.params.bf16Grad(n));
      onReady(names);
    };
    let du = layerNormBackward(linearBackward(dfull, s.decOut, this.decPred), s.decNorm, this.decNorm);
    ready('decoder_pred', 'decoder_norm');
    for (let i = this.dec.length - 1; i >= 0; i--) {
      du = blockBackward(du, s.dec[i]!, this.dec[i]!);
      ready(`decoder_blocks.${i}`);
    }
    const ids = { idsShuffle: s.idsShuffle, idsRestore: s.idsRestore };
    const dd = this.tokens.decoderInputBackward(du, ids, ready);
    let dx = layerNormBackward(linearBackward(dd, s.latent, this.decEmbed), s.encNorm, this.norm);
    ready('decoder_embed', 'norm');
    for (let i = this.enc.length - 1; i >= 0; i--) {
      dx = blockBackward(dx, s.enc[i]!, this.enc[i]!);
      ready(`blocks.${i}`);
    }
    const demb = this.tokens.encoderInputBackward(dx, ids, ready);
    linearBackwardParams(demb, s.patches, this.patchEmbed);
    ready('patch_embed');
    // bf16: the f32 gradients the optimiser reads (one cast of the flat buffer)
    if (this.computeDType === 'bf16' && !onReady) this.params.widenBf16Grads();
  }
}
