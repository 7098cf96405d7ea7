// float.ts: a checkpoint tensor's values as float32 (what the model's parameters are): F32 as is,
// F64 rounded, F16 and BF16 widened exactly (the dtype table's conversions); integer tensors are
// refused by name.
import { bf16ArrayToF32, f16ArrayToF32 } from '@mae-cuda/native';
import type { StTensor } from '../io/st_types.js';

/** The tensor's values as a Float32Array (the data itself when already F32). */
export function float32(t: StTensor, name: string): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data;
    case 'F64':
      return Float32Array.from(t.data);
    case 'F16':
      return f16ArrayToF32(t.data);
    case 'BF16':
      return bf16ArrayToF32(t.data);
    default:
      throw new Error(`tensor ${name} is ${t.dtype}; the model's parameters are floating point`);
  }
}
