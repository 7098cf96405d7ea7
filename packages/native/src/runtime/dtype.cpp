// dtype.cpp: element type names and sizes (mae_dtype_name, mae_dtype_size).
#include "runtime_impl.h"

extern "C" {

const char* mae_dtype_name(mae_dtype dtype) {
  switch (dtype) {
    case MAE_F32: return "f32";
    case MAE_BF16: return "bf16";
    case MAE_F16: return "f16";
    case MAE_I32: return "i32";
    case MAE_I64: return "i64";
    case MAE_U8: return "u8";
    case MAE_F64: return "f64";
  }
  return "unknown";
}

size_t mae_dtype_size(mae_dtype dtype) {
  switch (dtype) {
    case MAE_F32: return 4;
    case MAE_BF16: return 2;
    case MAE_F16: return 2;
    case MAE_I32: return 4;
    case MAE_I64: return 8;
    case MAE_U8: return 1;
    case MAE_F64: return 8;
  }
  return 0;
}

}  // extern "C"
