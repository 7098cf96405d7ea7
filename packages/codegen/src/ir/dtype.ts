// dtype.ts: the element types of the DSL, how each backend stores them and what type computes on them.
import { z } from 'zod';

export const DTYPES = ['f32', 'bf16', 'f16', 'i32', 'i64', 'u8', 'f64'] as const;
export const DTypeSchema = z.enum(DTYPES);
export type DType = z.infer<typeof DTypeSchema>;

/** The floating types an op can compute in; the CPU computes f64 only for gradient checks. */
export type FloatDType = 'f32' | 'bf16' | 'f16' | 'f64';
export const isFloat = (d: DType): d is FloatDType =>
  d === 'f32' || d === 'bf16' || d === 'f16' || d === 'f64';

/** Enum value in mae_cuda.h (`mae_dtype`). */
export const DTYPE_CODE: Record<DType, number> = { f32: 0, bf16: 1, f16: 2, i32: 3, i64: 4, u8: 5, f64: 6 };
export const DTYPE_ENUM: Record<DType, string> = {
  f32: 'MAE_F32',
  bf16: 'MAE_BF16',
  f16: 'MAE_F16',
  i32: 'MAE_I32',
  i64: 'MAE_I64',
  u8: 'MAE_U8',
  f64: 'MAE_F64',
};

/** Storage type in the C ABI and CPU kernels (16-bit floats are raw bits there). */
export const CPU_STORAGE: Record<DType, string> = {
  f32: 'float',
  bf16: 'uint16_t',
  f16: 'uint16_t',
  i32: 'int32_t',
  i64: 'int64_t',
  u8: 'uint8_t',
  f64: 'double',
};

/** Storage type in CUDA kernels. */
export const CUDA_STORAGE: Record<DType, string> = {
  f32: 'float',
  bf16: '__nv_bfloat16',
  f16: '__half',
  i32: 'int32_t',
  i64: 'int64_t',
  u8: 'uint8_t',
  f64: 'double',
};

/** Statistics/accumulation type of a floating type: f64 stays f64, everything else is f32. */
export const accOf = (d: DType): DType => (d === 'f64' ? 'f64' : 'f32');
