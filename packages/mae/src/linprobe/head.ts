// head.ts: the linear probe's head, as main_linprobe.py builds it: BatchNorm1d(D, affine=False,
// eps=1e-6) then Linear(D, K) with a trunc-normal(std 0.01) weight and a zero bias, trained with
// the official LARS (momentum 0.9, trust coefficient 0.001; the weight is adapted and decayed, the
// bias not) on softmax cross-entropy. Every step is generated ops on the head's device; the
// features come in frozen (no gradient flows back to the encoder). With accum_iter, each
// iteration's gradients (of the loss divided by accum_iter) are summed and LARS steps once per
// window; the running statistics move on every iteration, as BatchNorm1d's in train mode.
import { type DeviceSpec, ops, Tensor } from '@mae-cuda/native';
import { truncNormal } from '../init/random_init.js';
import { PhiloxStream } from '../rng/stream.js';

export const PROBE_BN_EPS = 1e-6;
/** torch.nn.BatchNorm1d's default momentum of the running statistics */
export const PROBE_BN_MOMENTUM = 0.1;
export const LARS_MOMENTUM = 0.9;
export const LARS_TRUST_COEFFICIENT = 0.001;
export const PROBE_INIT_STD = 0.01;
/** the host stream the head's initial weight is drawn from */
const HEAD_INIT_STREAM = 17;

type F32 = Tensor<'f32'>;

/** The head's state as host arrays (what the best checkpoint holds). */
export interface HeadState {
  weight: Float32Array;
  bias: Float32Array;
  running_mean: Float32Array;
  running_var: Float32Array;
}

export class ProbeHead {
  readonly weight: F32;
  readonly bias: F32;
  readonly runningMean: F32;
  readonly runningVar: F32;
  /** LARS's momentum buffers ('mu') of the weight [K * D] and the bias [K] */
  readonly muW: F32;
  readonly muB: F32;
  /** the gradients summed over the window: weight [1, K, D], bias [K] */
  private readonly gradW: F32;
  private readonly gradB: F32;
  private readonly noNorms: F32;

  constructor(
    readonly dim: number,
    readonly classes: number,
    seed: number,
    readonly device: DeviceSpec,
  ) {
    const w = truncNormal(classes * dim, PROBE_INIT_STD, new PhiloxStream(seed, HEAD_INIT_STREAM));
    this.weight = Tensor.fromArray('f32', [classes, dim], w, device);
    this.bias = Tensor.zeros('f32', [classes], device);
    this.runningMean = Tensor.zeros('f32', [dim], device);
    this.runningVar = Tensor.fromArray('f32', [dim], new Float32Array(dim).fill(1), device);
    this.muW = Tensor.zeros('f32', [classes * dim], device);
    this.muB = Tensor.zeros('f32', [classes], device);
    this.noNorms = Tensor.zeros('f32', [2], device);
    this.gradW = Tensor.zeros('f32', [1, classes, dim], device);
    this.gradB = Tensor.zeros('f32', [classes], device);
  }

  private empty(shape: number[]): F32 {
    return Tensor.empty('f32', shape, this.device);
  }

  /** One training step on frozen features [B, D] with labels [B]; returns the mean loss. */
  async trainStep(feats: F32, labels: Tensor<'i64'>, lr: number, weightDecay: number): Promise<number> {
    const loss = await this.accumulate(feats, labels, 0, 1);
    this.update(lr, weightDecay);
    return loss;
  }

  /**
   * Iteration k of a window of frozen features [B, D] with labels [B]: BatchNorm (its running
   * statistics updated), the logits and the gradients of loss * scale, summed into the window's
   * (k 0 starts it); returns the mean loss.
   */
  async accumulate(feats: F32, labels: Tensor<'i64'>, k: number, scale: number): Promise<number> {
    const [B, D, K] = [feats.shape[0]!, this.dim, this.classes];
    const [mean, rstd, xn, logits] = [
      this.empty([D]),
      this.empty([D]),
      this.empty([B, D]),
      this.empty([B, K]),
    ];
    ops.batchnorm1d_stats_forward(
      mean,
      rstd,
      this.runningMean,
      this.runningVar,
      feats,
      this.runningMean,
      this.runningVar,
      PROBE_BN_EPS,
      PROBE_BN_MOMENTUM,
    );
    ops.batchnorm1d_forward(xn, feats, mean, rstd);
    ops.linear_forward(logits, xn, this.weight, this.bias);
    const [rows, lse, dlogits] = [this.empty([B]), this.empty([B]), this.empty([B, K])];
    ops.cross_entropy_forward(rows, lse, logits, labels);
    const dloss = Tensor.fromArray('f32', [1], [scale], this.device);
    ops.cross_entropy_backward(dlogits, logits, lse, labels, dloss);
    const [dW, dB] = k === 0 ? [this.gradW, this.gradB] : [this.empty([1, K, D]), this.empty([K])];
    ops.matmul_tn(dW, dlogits.view([1, B, K]), xn.view([1, B, D]), 1);
    ops.sum_forward(dB, dlogits, 0);
    if (k > 0) {
      ops.residual_forward(this.gradW.view([K * D]), this.gradW.view([K * D]), dW.view([K * D]));
      ops.residual_forward(this.gradB, this.gradB, dB);
    }
    const r = await rows.toFloat32Array();
    return r.reduce((s, v) => s + v, 0) / B;
  }

  /** LARS on the window's gradients at lr (the weight decayed and adapted, the bias neither). */
  update(lr: number, weightDecay: number): void {
    const n = this.classes * this.dim;
    const [w, dW] = [this.weight.view([n]), this.gradW.view([n])];
    const norms = this.empty([2]);
    ops.lars_norms_forward(norms, w, dW, weightDecay);
    ops.lars_forward(
      w,
      this.muW,
      w,
      dW,
      this.muW,
      norms,
      lr,
      LARS_MOMENTUM,
      weightDecay,
      LARS_TRUST_COEFFICIENT,
      1,
    );
    ops.lars_forward(
      this.bias,
      this.muB,
      this.bias,
      this.gradB,
      this.muB,
      this.noNorms,
      lr,
      LARS_MOMENTUM,
      0,
      LARS_TRUST_COEFFICIENT,
      0,
    );
  }

  /** Eval-mode logits [B, K] of features [B, D] (the running statistics), on the host. */
  async logits(feats: F32): Promise<Float32Array> {
    const B = feats.shape[0]!;
    const [xn, out] = [this.empty([B, this.dim]), this.empty([B, this.classes])];
    ops.batchnorm1d_eval_forward(xn, feats, this.runningMean, this.runningVar, PROBE_BN_EPS);
    ops.linear_forward(out, xn, this.weight, this.bias);
    return out.toFloat32Array();
  }

  async state(): Promise<HeadState> {
    return {
      weight: await this.weight.toFloat32Array(),
      bias: await this.bias.toFloat32Array(),
      running_mean: await this.runningMean.toFloat32Array(),
      running_var: await this.runningVar.toFloat32Array(),
    };
  }
}
