// mae_device.cuh: the CUDA syntax the generated kernels use, as macros, so that the same sources
// compile with nvcc and, with MAE_CUDA_EMULATOR defined, as host C++ against the emulator
// (packages/native/emu: a fiber per CUDA thread, see docs/EMULATOR.md):
//   MAE_LAUNCH(kernel, grid, block, smem, stream, args...)   kernel<<<grid, block, smem, stream>>>(args...)
//   MAE_LAUNCH_FLAT(kernel, grid, block, smem, stream, args...)  the same, for a kernel with no
//       __syncthreads and no warp collective: the emulator runs its threads as plain calls, without
//       fibers (and faults if one reaches a barrier)
//   MAE_SHARED(type, name, dims)                              __shared__ type name dims;
//   MAE_SHARED_ALIGNED(align, type, name, dims)               __shared__ __align__(align) type name dims;
//   MAE_DYNAMIC_SHARED(align, type, name)                     extern __shared__ __align__(align) type name[];
// `kernel` must be one identifier (no template arguments); `dims` is the bracketed extents, e.g. [32].
#pragma once

#ifdef MAE_CUDA_EMULATOR
#include "mae_emu_device.h"
#else
#define MAE_LAUNCH(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#define MAE_LAUNCH_FLAT(kernel, grid, block, smem, stream, ...) \
  kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#define MAE_SHARED(type, name, dims) __shared__ type name dims
#define MAE_SHARED_ALIGNED(align, type, name, dims) __shared__ __align__(align) type name dims
#define MAE_DYNAMIC_SHARED(align, type, name) extern __shared__ __align__(align) type name[]
#endif
