// internal.h: what the runtime offers the generated kernel code (ops_capi.cpp, ops_cuda.cu) and
// the addon. Not installed; the public ABI is include/mae_cuda.h.
#pragma once
#include "mae_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif
// Sets the thread-local last error (printf format) and returns MAE_ERROR.
mae_status mae_fail(const char* fmt, ...);
// Formats a tensor's shape as "[2, 3, 4]" into buf (thread-local storage, valid until the next call
// on this thread with the same slot 0..7).
const char* mae_shape_str(const mae_tensor* t, int slot);
#ifdef __cplusplus
}
#endif
