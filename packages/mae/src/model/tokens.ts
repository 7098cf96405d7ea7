// tokens.ts: where the removed patches go, the two ways the model can treat them:
//   skipped (official models_mae.py)  the encoder runs on the cls token and the kept patches (with
//       their position embedding) in shuffled order; the decoder embeds those, inserts its
//       mask_token at the removed positions, un-shuffles and adds its position embedding.
//   encoder mask token (Table 1c's ablation, config encoder_mask_token)  the encoder runs on the cls
//       token and all L patches in order, each removed patch's embedding replaced by the learned
//       [1, 1, D] encoder_mask_token before the position embedding is added (the official
//       forward_encoder with `x = x * (1 - mask) + encoder_mask_token * mask` between the patch
//       embedding and `+ pos_embed`, nothing dropped); the decoder embeds all 1 + L encoder outputs
//       and adds its position embedding (the model has no decoder mask_token).
// Both are made of the same generated ops (gather_rows, prepend_token, unshuffle, add_rows): the
// encoder's input with mask tokens is unshuffle's "kept rows, else a token, plus a position table".
import { ops, Tensor, untracked } from '@mae-cuda/native';
import { encoderTokens, lenKeep, type MaeConfig, numPatches } from '../config/model.js';
import { empty } from './layers.js';
import type { F32 } from './params.js';
import type { WeightSource } from './plan.js';

/** The masking's index tensors on the model's device. */
export interface MaskIds {
  idsShuffle: Tensor<'i64'>;
  idsRestore: Tensor<'i64'>;
}

/** The treatment of the removed patches a configuration asks for. */
export class Tokens {
  /** the token parameter (mask_token, or encoder_mask_token) */
  readonly tokenName: string;
  /** [D] zeros: the cls row's position offset before unshuffle adds pos_embed's row 0 */
  private zeros?: F32;

  constructor(
    readonly config: MaeConfig,
    private readonly w: WeightSource,
  ) {
    this.tokenName = config.encoder_mask_token ? 'encoder_mask_token' : 'mask_token';
  }

  /**
   * The encoder's input [N, 1 + T, D] (T = encoderTokens) from the patch embeddings [N, L, D]
   * without the position embedding.
   */
  encoderInput(emb: F32, ids: MaskIds): F32 {
    const c = this.config;
    const [N, L, D] = [emb.shape[0]!, numPatches(c), c.embed_dim];
    const pos = this.w.get('pos_embed');
    const cls = this.w.get('cls_token').view([D]);
    const withPos = c.encoder_mask_token ? emb : addPos(emb, pos.view([L, D], D));
    const kept = empty([N, lenKeep(c), D], emb);
    ops.gather_rows_forward(kept, withPos, ids.idsShuffle); // the first J of each row are kept
    const x = empty([N, kept.shape[1]! + 1, D], emb);
    if (!c.encoder_mask_token) {
      ops.prepend_token_forward(x, kept, cls, pos.view([D], 0));
      return x;
    }
    ops.prepend_token_forward(x, kept, cls, this.zerosLike(emb, D));
    const all = empty([N, L + 1, D], emb);
    ops.unshuffle_forward(all, x, this.w.get(this.tokenName).view([D]), ids.idsRestore, pos.view([L + 1, D]));
    return all;
  }

  /** d loss / d patch embeddings [N, L, D] from d loss / d encoder input; writes the tokens' gradients. */
  encoderInputBackward(dx: F32, ids: MaskIds, ready: (...names: string[]) => void): F32 {
    const c = this.config;
    const [N, L, D] = [dx.shape[0]!, numPatches(c), c.embed_dim];
    const J = lenKeep(c);
    let dkx = dx;
    if (c.encoder_mask_token) {
      dkx = empty([N, J + 1, D], dx);
      ops.unshuffle_backward(dkx, this.w.grad(this.tokenName).view([D]), dx, ids.idsShuffle, ids.idsRestore);
      ready(this.tokenName);
    }
    const dkept = empty([N, J, D], dx);
    ops.prepend_token_backward(dkept, this.w.grad('cls_token').view([D]), dkx);
    ready('cls_token');
    const demb = empty([N, L, D], dx);
    ops.gather_rows_backward(demb, dkept, ids.idsRestore);
    return demb;
  }

  /** The decoder's input [N, 1 + L, Dd] from the embedded encoder output [N, 1 + T, Dd]. */
  decoderInput(d: F32, ids: MaskIds): F32 {
    const c = this.config;
    const [N, L, Dd] = [d.shape[0]!, numPatches(c), c.decoder_embed_dim];
    const pos = this.w.get('decoder_pos_embed').view([L + 1, Dd]);
    if (c.encoder_mask_token) return addPos(d, pos);
    const u = empty([N, L + 1, Dd], d);
    ops.unshuffle_forward(u, d, this.w.get(this.tokenName).view([Dd]), ids.idsRestore, pos);
    return u;
  }

  /** d loss / d embedded encoder output from d loss / d decoder input; writes mask_token's gradient. */
  decoderInputBackward(du: F32, ids: MaskIds, ready: (...names: string[]) => void): F32 {
    const c = this.config;
    if (c.encoder_mask_token) return du; // the position embedding is fixed
    const dd = empty([du.shape[0]!, 1 + encoderTokens(c), c.decoder_embed_dim], du);
    ops.unshuffle_backward(
      dd,
      this.w.grad(this.tokenName).view([c.decoder_embed_dim]),
      du,
      ids.idsShuffle,
      ids.idsRestore,
    );
    ready(this.tokenName);
    return dd;
  }

  private zerosLike(x: F32, D: number): F32 {
    if (this.zeros?.dtype !== x.dtype)
      this.zeros = untracked(() => Tensor.zeros(x.dtype, [D], x.device)) as F32; // kept: a captured step reads it
    return this.zeros;
  }
}

/** x [N, T, D] + table [T, D] on every sample. */
function addPos(x: F32, table: F32): F32 {
  const out = empty([...x.shape], x);
  ops.add_rows_forward(out, x, table);
  return out;
}
