// hopper_host.cuh: the host side of the sm_90a GEMM (gemm_wgmma.cuh): TMA tensor maps of the
// operands (the driver's cuTensorMapEncodeTiled, resolved at run time, or the emulator's encoding)
// and whether a device takes the wgmma kernels, and how many of a persistent kernel's clusters it
// holds at once. Included by the generated ops_cuda.cu after
// prelude.cuh (mae_fail, mae_cached_attribute).
#pragma once
#include "gemm_wgmma.cuh"
#include "hopper.cuh"
#if !defined(MAE_CUDA_EMULATOR)
#include <cudaTypedefs.h>  // the driver's types and PFN_cuTensorMapEncodeTiled (resolved at run time)
#endif
#include <cstdlib>
#include <cstring>

namespace {
// A tiled bf16 tensor map of a dense 3-D tensor: dims {d0 (contiguous), d1, d2}, box {b0, b1, 1},
// the 128-byte swizzle (b0 = 64: rows of 128 bytes), zeros outside the tensor.
mae_status mae_tma_map_3d(MaeTmaMap* map, const void* base, uint64_t d0, uint64_t d1, uint64_t d2, uint32_t b0,
                          uint32_t b1, const char* op) {
#if defined(MAE_CUDA_EMULATOR)
  const uint64_t dims[3] = {d0, d1, d2}, strides[3] = {2, d0 * 2, d0 * d1 * 2};
  const uint32_t box[3] = {b0, b1, 1};
  mae_emu::TmaSpec s{};
  s.base = base, s.rank = 3, s.elem_bytes = 2, s.swizzle_bytes = 128;
  for (int i = 0; i < 3; ++i) s.dims[i] = dims[i], s.strides[i] = strides[i], s.box[i] = box[i];
  const char* why = mae_emu::tma_encode(map, s);
  return *why ? mae_fail("%s: cannot encode a TMA tensor map: %s", op, why) : MAE_OK;
#else
  static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
  if (encode == nullptr) {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult q{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &q) != cudaSuccess ||
        fn == nullptr)
      return mae_fail("%s: the driver has no cuTensorMapEncodeTiled (TMA needs CUDA 12 drivers)", op);
    encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }
  const cuuint64_t dims[3] = {d0, d1, d2}, strides[2] = {d0 * 2, d0 * d1 * 2};
  const cuuint32_t box[3] = {b0, b1, 1}, ones[3] = {1, 1, 1};
  const CUresult r = encode(reinterpret_cast<CUtensorMap*>(map), CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3,
                            const_cast<void*>(base), dims, strides, box, ones, CU_TENSOR_MAP_INTERLEAVE_NONE,
                            CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS ? MAE_OK : mae_fail("%s: cuTensorMapEncodeTiled failed (CUresult %d)", op, (int)r);
#endif
}

// The clusters of `cluster` CTAs (1, 2, 4 or 8) of the wgmma kernel `kernel` a device holds at once
// (cudaOccupancyMaxActiveClusters: a cluster's CTAs share a GPC), asked once per device and cluster
// size (`cache`: the launcher's, one per kernel); 0 where it cannot tell (the emulator).
template <class K>
int64_t mae_wg_active(K kernel, std::atomic<int> (&cache)[64][4], int device, int64_t cluster) {
  if (device < 0 || device >= 64) return 0;
  const int i = cluster == 1 ? 0 : cluster == 2 ? 1 : cluster == 4 ? 2 : 3;
  int n = cache[device][i].load(std::memory_order_relaxed);
  if (n == 0) {
    n = mae_max_active_clusters(kernel, dim3(1, static_cast<unsigned>(cluster), 1), dim3(MAE_WG_THREADS), MAE_WG_SMEM);
    cache[device][i].store(n > 0 ? n : -1, std::memory_order_relaxed);
  }
  return n > 0 ? n : 0;
}

// Whether the wgmma kernels have passed the op checks on a real sm_90 GPU (scripts/gpu-check.sh
// with MAE_CUDA_GEMM=wgmma). Until then MAE_CUDA_GEMM=auto keeps the mma.sync kernels, which have,
// on real GPUs; the emulator, where the wgmma kernels are checked on every run, takes them.
constexpr bool MAE_WGMMA_VERIFIED_ON_GPU = false;

// Whether GEMMs on `device` take the wgmma kernels, by MAE_CUDA_GEMM: `wgmma` on a device of
// compute capability 9.x (sm_90a: H100, H200); `mma` never; `auto` (or unset) as `wgmma` once
// MAE_WGMMA_VERIFIED_ON_GPU (and under the emulator), else as `mma`. -1 for another value.
int mae_wgmma_enabled(int device) {
  static const int mode = [] {
    const char* e = std::getenv("MAE_CUDA_GEMM");
#if defined(MAE_CUDA_EMULATOR)
    const int automatic = 1;
#else
    const int automatic = MAE_WGMMA_VERIFIED_ON_GPU ? 1 : 0;
#endif
    if (e == nullptr || *e == 0 || std::strcmp(e, "auto") == 0) return automatic;
    if (std::strcmp(e, "wgmma") == 0) return 1;
    return std::strcmp(e, "mma") == 0 ? 0 : -1;
  }();
  static std::atomic<int> major[64];
  if (mode <= 0) return mode;
  return mae_cached_attribute(major, cudaDevAttrComputeCapabilityMajor, device, 0) == 9 ? 1 : 0;
}
}  // namespace
