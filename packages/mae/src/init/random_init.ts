// random_init.ts: the random initialisers of the official initialize_weights, drawn from a
// PhiloxStream in float64 and rounded to float32 (torch draws its own generator's numbers, so the
// values differ from PyTorch's; the distributions are the same):
//   xavierUniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (torch.nn.init.xavier_uniform_)
//   uniform        U(lo, hi), value = lo + (hi - lo) * u          (torch.nn.init.uniform_)
//   normal         N(mean, std^2), value = mean + std * z         (torch.nn.init.normal_)
//   truncNormal    N(0, std^2) redrawn until inside [a, b]         (timm's trunc_normal_)
import type { PhiloxStream } from '../rng/stream.js';

/** `count` values uniform in [lo, hi), in stream order. */
export function uniform(count: number, lo: number, hi: number, rng: PhiloxStream): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * rng.uniform();
  return out;
}

/** A [fanOut, fanIn] weight (row-major), Xavier/Glorot uniform with gain 1. */
export function xavierUniform(fanOut: number, fanIn: number, rng: PhiloxStream): Float32Array {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(fanOut * fanIn, -a, a, rng);
}

/** `count` values from N(mean, std^2), in stream order. */
export function normal(count: number, std: number, rng: PhiloxStream, mean = 0): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = mean + std * rng.normal();
  return out;
}

/** timm's trunc_normal_(std, a=-2, b=2): N(0, std^2) redrawn until inside [a, b]. */
export function truncNormal(count: number, std: number, rng: PhiloxStream, a = -2, b = 2): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let v: number;
    do v = std * rng.normal();
    while (v < a || v > b);
    out[i] = v;
  }
  return out;
}
