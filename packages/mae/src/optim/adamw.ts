// adamw.ts: AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments), over the
// trainable parameters of a ParamStore with the official groups: no decay for 1-D parameters and
// biases, positional embeddings frozen. One generated op per parameter, in place.
import { ops, Tensor } from '@mae-cuda/native';
import { paramGroups } from '../init/param_groups.js';
import type { F32, ParamStore } from '../model/params.js';

export interface AdamWOptions {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWOptions = { betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.05 };

export class AdamW {
  readonly trainable: readonly string[];
  private readonly decay: ReadonlySet<string>;
  readonly m = new Map<string, F32>();
  readonly v = new Map<string, F32>();
  /** number of steps taken (the bias corrections use step + 1 on the next one) */
  step = 0;

  constructor(
    readonly params: ParamStore,
    readonly opts: AdamWOptions = DEFAULT_ADAMW,
  ) {
    const groups = paramGroups([...params.values].map(([n, t]) => [n, { shape: t.shape }] as const));
    this.trainable = groups.trainable;
    this.decay = new Set(groups.decay);
    for (const name of this.trainable) {
      const p = params.get(name);
      this.m.set(name, Tensor.zeros('f32', p.shape, p.device));
      this.v.set(name, Tensor.zeros('f32', p.shape, p.device));
    }
  }

  /** One update of every trainable parameter from its gradient, at learning rate lr. */
  update(lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr))
      throw new RangeError(`AdamW: learning rate must be finite and >= 0, got ${lr}`);
    this.step += 1;
    const [b1, b2] = this.opts.betas;
    const bc1 = 1 - b1 ** this.step;
    const bc2 = 1 - b2 ** this.step;
    for (const name of this.trainable) {
      const flat = (t: F32) => t.view([t.numel]);
      const [p, g, m, v] = [
        this.params.get(name),
        this.params.grad(name),
        this.m.get(name)!,
        this.v.get(name)!,
      ].map(flat) as [F32, F32, F32, F32];
      const wd = this.decay.has(name) ? this.opts.weightDecay : 0;
      ops.adamw_forward(p, m, v, p, g, m, v, lr, b1, b2, this.opts.eps, wd, bc1, bc2);
    }
  }
}
