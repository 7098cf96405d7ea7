// mae_device.cuh: the CUDA syntax the generated kernels use, as macros, so that the same sources
// compile with nvcc and, with MAE_CUDA_EMULATOR defined, as host C++ against the emulator
// (packages/native/emu: a fiber per CUDA thread, see docs/EMULATOR.md):
//   MAE_LAUNCH(kernel, grid, block, smem, stream, args...)   kernel<<<grid, block, smem, stream>>>(args...)
//   MAE_LAUNCH_FLAT(kernel, grid, block, smem, stream, args...)  the same, for a kernel with no
//       __syncthreads and no warp collective: the emulator runs its threads as plain calls, without
//       fibers (and faults if one reaches a barrier)
//   MAE_LAUNCH_CLUSTER(kernel, cluster, grid, block, smem, stream, args...)  in thread block
//       clusters of shape `cluster` (cudaLaunchKernelEx with cudaLaunchAttributeClusterDimension;
//       the emulator runs each cluster's blocks together)
//   MAE_SHARED(type, name, dims)                              __shared__ type name dims;
//   MAE_SHARED_ALIGNED(align, type, name, dims)               __shared__ __align__(align) type name dims;
//   MAE_DYNAMIC_SHARED(align, type, name)                     extern __shared__ __align__(align) type name[];
//   MAE_COUNT_TILE(total)   a persistent kernel's block starts one of the launch's `total` tiles
//       (nothing on a GPU; the emulator's counters, for the kernel report)
//   MAE_TILES_STEP(first, end, step)   the step of a persistent block's walk over its tiles: `step`
//       (the emulator's sampled blocks run only their first and last tiles)
// and mae_max_active_clusters(kernel, cluster, block, smem): the clusters of that shape a device
// holds at once (cudaOccupancyMaxActiveClusters; 0 where it cannot tell, as under the emulator).
// `kernel` must be one identifier (no template arguments); `dims` is the bracketed extents, e.g. [32].
#pragma once

#ifdef MAE_CUDA_EMULATOR
#include "mae_emu_device.h"
#define MAE_COUNT_TILE(total) ::mae_emu::count_tile(static_cast<uint64_t>(total))
#define MAE_TILES_STEP(first, end, step) ::mae_emu::tiles_step((first), (end), (step))
template <class K>
inline int mae_max_active_clusters(K, dim3, dim3, size_t) {
  return 0;
}
#else
#define MAE_COUNT_TILE(total) ((void)(total))
#define MAE_TILES_STEP(first, end, step) (step)
#define MAE_LAUNCH(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#define MAE_LAUNCH_FLAT(kernel, grid, block, smem, stream, ...) \
  kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#include <utility>
template <typename... P, typename... A>
inline cudaError_t mae_launch_cluster(void (*kernel)(P...), dim3 cluster, dim3 grid, dim3 block, size_t smem,
                                      cudaStream_t stream, A&&... args) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = cluster.x;
  attr[0].val.clusterDim.y = cluster.y;
  attr[0].val.clusterDim.z = cluster.z;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, kernel, std::forward<A>(args)...);
}
template <typename... P>
inline int mae_max_active_clusters(void (*kernel)(P...), dim3 cluster, dim3 block, size_t smem) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = cluster.x;
  attr[0].val.clusterDim.y = cluster.y;
  attr[0].val.clusterDim.z = cluster.z;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = cluster;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  int n = 0;
  return cudaOccupancyMaxActiveClusters(&n, kernel, &cfg) == cudaSuccess ? n : 0;
}
#define MAE_LAUNCH_CLUSTER(kernel, cluster, grid, block, smem, stream, ...) \
  mae_launch_cluster(kernel, dim3(cluster), dim3(grid), dim3(block), (smem), (stream), __VA_ARGS__)
#define MAE_SHARED(type, name, dims) __shared__ type name dims
#define MAE_SHARED_ALIGNED(align, type, name, dims) __shared__ __align__(align) type name dims
#define MAE_DYNAMIC_SHARED(align, type, name) extern __shared__ __align__(align) type name[]
#endif

// 16 bytes as one access (a GPU's 128-bit load or store; in the emulator a GCC vector, which the
// host compiler keeps as one 16-byte access where it would split a struct's copy in four, so the
// emulator counts the request the GPU makes): `p` 16-byte aligned.
#ifdef MAE_CUDA_EMULATOR
typedef uint32_t mae_u32x4_t __attribute__((vector_size(16)));
typedef float mae_f32x4_t __attribute__((vector_size(16)));
#define MAE_V16(v, i) (v)[i]
#else
typedef uint4 mae_u32x4_t;
typedef float4 mae_f32x4_t;
#define MAE_V16(v, i) ((i) == 0 ? (v).x : (i) == 1 ? (v).y : (i) == 2 ? (v).z : (v).w)
#endif
__device__ __forceinline__ void mae_ld16(uint32_t (&r)[4], const void* p) {
  const mae_u32x4_t v = *static_cast<const mae_u32x4_t*>(p);
  r[0] = MAE_V16(v, 0), r[1] = MAE_V16(v, 1), r[2] = MAE_V16(v, 2), r[3] = MAE_V16(v, 3);
}
__device__ __forceinline__ void mae_ld16(float (&r)[4], const float* p) {
  const mae_f32x4_t v = *reinterpret_cast<const mae_f32x4_t*>(p);
  r[0] = MAE_V16(v, 0), r[1] = MAE_V16(v, 1), r[2] = MAE_V16(v, 2), r[3] = MAE_V16(v, 3);
}
__device__ __forceinline__ void mae_st16(void* p, const uint32_t (&r)[4]) {
  *static_cast<mae_u32x4_t*>(p) = mae_u32x4_t{r[0], r[1], r[2], r[3]};
}
__device__ __forceinline__ void mae_st16(float* p, float a, float b, float c, float d) {
  *reinterpret_cast<mae_f32x4_t*>(p) = mae_f32x4_t{a, b, c, d};
}

// Two floats as one 8-byte store (as the 16-byte accesses above: a GCC vector in the emulator):
// `p` 8-byte aligned.
#ifdef MAE_CUDA_EMULATOR
typedef float mae_f32x2_t __attribute__((vector_size(8)));
#else
typedef float2 mae_f32x2_t;
#endif
__device__ __forceinline__ void mae_st8(float* p, float a, float b) {
  *reinterpret_cast<mae_f32x2_t*>(p) = mae_f32x2_t{a, b};
}
