// float.ts: a checkpoint tensor's values as float32 (what the model's parameters are): F32 as is,
// F64 rounded, F16 and BF16 widened exactly; integer tensors are refused by name.
import type { StTensor } from '../io/st_types.js';

/** An IEEE half's bits as a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The tensor's values as a Float32Array (the data itself when already F32). */
export function float32(t: StTensor, name: string): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data;
    case 'F64':
      return Float32Array.from(t.data);
    case 'F16':
      return Float32Array.from(t.data, halfToNumber);
    case 'BF16': {
      const bits = new Uint32Array(t.data.length);
      for (let i = 0; i < bits.length; i++) bits[i] = t.data[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new Error(`tensor ${name} is ${t.dtype}; the model's parameters are floating point`);
  }
}
