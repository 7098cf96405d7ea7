// allocator.h: the per-device caching allocator (CPU: 64-byte aligned host blocks; CUDA: cudaMalloc
// blocks) with size-bucketed free lists and allocated/reserved/peak statistics.
#pragma once
#include <cstddef>

#include "runtime_impl.h"

namespace mae_rt {
// Stores a block of at least nbytes on device d in *out (nullptr for nbytes == 0). On failure sets
// "<fn>: ..." and returns MAE_ERROR. The device must have passed check_device.
mae_status device_alloc(mae_device d, size_t nbytes, void** out, const char* fn);
// Returns a block from device_alloc to its device's cache.
void device_free(mae_device d, void* p);
}  // namespace mae_rt
