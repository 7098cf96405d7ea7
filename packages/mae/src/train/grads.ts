// grads.ts: gradient accumulation and clipping on the device. model.backward() overwrites every
// gradient, so micro-batch gradients are summed into separate buffers (ops.residual_forward) and
// the last micro-batch's sum is written straight into params.grads, ready for the update. The
// global norm is sqrt(sum over parameters of ops.sumsq_forward), and clipping scales every
// gradient by max_norm / (norm + 1e-6) when the norm is above max_norm, as torch's clip_grad_norm_.
import { freeAfter, ops, Tensor } from '@mae-cuda/native';
import type { F32, ParamStore } from '../model/params.js';

const flat = (t: F32): F32 => t.view([t.numel]);

export class GradAccumulator {
  private readonly buffers = new Map<string, F32>();

  constructor(
    readonly params: ParamStore,
    readonly names: readonly string[],
    readonly accumIter: number,
  ) {
    if (!Number.isInteger(accumIter) || accumIter < 1)
      throw new RangeError(`accum_iter must be a positive integer, got ${accumIter}`);
    if (accumIter > 1)
      for (const name of names) {
        const g = params.grad(name);
        this.buffers.set(name, Tensor.zeros('f32', [g.numel], g.device));
      }
  }

  /**
   * Call after the backward of micro-batch k (0 .. accumIter-1) of a window: after the last one,
   * params.grads holds the sum over the window.
   */
  add(k: number): void {
    if (this.accumIter === 1) return;
    if (!Number.isInteger(k) || k < 0 || k >= this.accumIter)
      throw new RangeError(`micro-batch ${k} is outside 0..${this.accumIter - 1}`);
    for (const name of this.names) {
      const g = flat(this.params.grad(name));
      const b = this.buffers.get(name)!;
      if (k === 0) b.copyFrom(g);
      else if (k < this.accumIter - 1) ops.residual_forward(b, b, g);
      else ops.residual_forward(g, b, g);
    }
  }
}

/** The global L2 norm of the gradients of names. */
export async function gradNorm(params: ParamStore, names: readonly string[]): Promise<number> {
  if (names.length === 0) return 0;
  const first = params.grad(names[0]!);
  // the views go at once, and the sums after the read (not when the garbage collector runs)
  const sums = freeAfter(
    () => {
      const s = Tensor.empty('f32', [names.length], first.device);
      names.forEach((name, i) => ops.sumsq_forward(s.view([1], i), flat(params.grad(name))));
      return s;
    },
    (s) => [s],
  );
  const host = await sums.toArray();
  sums.dispose();
  let total = 0;
  for (const v of host) total += v;
  return Math.sqrt(total);
}

/**
 * Clips the gradients of names to global norm maxNorm in place; returns the norm before clipping
 * (non-finite norms leave the gradients as they are).
 */
export async function clipGradNorm(
  params: ParamStore,
  names: readonly string[],
  maxNorm: number,
): Promise<number> {
  if (!(maxNorm > 0)) throw new RangeError(`clip norm must be positive, got ${maxNorm}`);
  const norm = await gradNorm(params, names);
  const coef = maxNorm / (norm + 1e-6);
  if (Number.isFinite(norm) && coef < 1)
    for (const name of names) {
      const g = flat(params.grad(name));
      ops.scale_forward(g, g, coef);
    }
  return norm;
}
