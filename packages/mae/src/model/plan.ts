// plan.ts: the model's precision plan: which tensors are bf16 is decided here, not in the layers.
//   f32   every tensor f32 (the CPU default; equal to the official model within f32 rounding)
//   bf16  weights (copies the optimiser writes), activations, saved tensors and gradients in bf16;
//         GEMM and attention accumulate in f32, LayerNorm statistics and the loss rows are f32
//         (the ops' accumulator outputs), the prediction is widened to f32 for the loss, and the
//         master weights, their f32 gradients (one cast of all bf16 gradients per step) and the
//         optimiser state stay f32 (AdamW refreshes the bf16 copies in the same launch).
//   auto  bf16 on CUDA, f32 on the CPU
// A store of dtype f64 (gradient checks) always runs in f64.
import { type DeviceSpec, type DType, ops, Tensor } from '@mae-cuda/native';
import type { F32, ParamStore } from './params.js';

export const PRECISIONS = ['auto', 'f32', 'bf16'] as const;
export type PrecisionSetting = (typeof PRECISIONS)[number];
export type Precision = 'f32' | 'bf16';

export function resolvePrecision(p: PrecisionSetting, device: DeviceSpec): Precision {
  return p === 'auto' ? (device === 'cpu' ? 'f32' : 'bf16') : p;
}

/** The dtype of a reduction's statistics for tensors of dtype d (the ops' `acc:` dtype). */
export const accDType = (d: DType): 'f32' | 'f64' => (d === 'f64' ? 'f64' : 'f32');

/** Where the layers read weights and write gradients: the store itself, or its bf16 copies. */
export interface WeightSource {
  get(name: string): F32;
  grad(name: string): F32;
}

/**
 * The weights a model of this precision computes with. bf16 tensors are typed F32 like the f64
 * ones of gradient checks: every op dispatches on the runtime dtype and checks its arguments agree.
 */
export function weightSource(params: ParamStore, precision: Precision): WeightSource {
  if (precision === 'f32' || params.dtype === 'f64') return params;
  params.enableBf16();
  params.enableBf16Grads();
  return {
    get: (name) => params.bf16(name) as unknown as F32,
    grad: (name) => params.bf16Grad(name) as unknown as F32,
  };
}

/** x in dtype d (x itself when it already is). */
export function castTo(x: Tensor, d: DType): Tensor {
  if (x.dtype === d) return x;
  const out = Tensor.empty(d, x.shape, x.device);
  castInto(out, x);
  return out;
}

/** out = x converted to out's dtype (same element count; the cast pairs cast_forward has). */
export function castInto(out: Tensor, x: Tensor): void {
  if (out.numel !== x.numel) throw new TypeError(`castInto: ${x.numel} elements into ${out.numel}`);
  (ops.cast_forward as (o: Tensor, i: Tensor) => void)(out.view([out.numel]), x.view([x.numel]));
}
