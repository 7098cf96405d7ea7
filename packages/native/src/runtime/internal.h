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
// Scratch device memory for work queued on `stream` (a cudaStream_t, NULL the legacy default) of
// CUDA device `device`: at least `bytes`, valid until a later call for that stream asks for more;
// it cannot grow during a graph capture (runtime/workspace.cpp). Errors name `op`.
mae_status mae_cuda_workspace(int device, void* stream, size_t bytes, void** out, const char* op);
#ifdef __cplusplus
}
#endif
