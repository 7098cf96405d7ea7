// allocator.h: the per-device caching allocator (CPU: 64-byte aligned host blocks; CUDA: cudaMalloc
// blocks) with size-bucketed free lists and allocated/reserved/peak statistics.
#pragma once
#include <cstddef>

#include "runtime_impl.h"

namespace mae_rt {
// Stores a block of at least nbytes on device d in *out (nullptr for nbytes == 0). On failure sets
// "<fn>: ..." and returns MAE_ERROR. The device must have passed check_device.
mae_status device_alloc(mae_device d, size_t nbytes, void** out, const char* fn);
// Returns a block from device_alloc to its device's cache (or to its capture pool).
void device_free(mae_device d, void* p);

// A graph capture's private pool (see allocator.cpp). begin returns nullptr when one is already
// active on the device; end stops routing allocations to it; release hands its blocks back to the
// device's cache (call once the graph that uses them is destroyed).
struct PrivatePool;
PrivatePool* private_pool_begin(mae_device d);
void private_pool_end(mae_device d);
void private_pool_release(mae_device d, PrivatePool* p);
}  // namespace mae_rt
