// async_copy.cuh: the sm_80 data movement of the tensor-core GEMM (gemm_async.cuh):
// 16-byte asynchronous copies from global to shared memory with a zero-filled tail (cp.async.cg,
// grouped with commit_group / wait_group), and ldmatrix (four 8x8 matrices of 16-bit elements per
// warp, optionally transposed) that loads mma.m16n8k16's fragments from shared memory. Each helper
// is PTX on sm_80+, the emulator's model under MAE_CUDA_EMULATOR (packages/native/emu/src/
// device_async.cpp), and a trap below sm_80 rather than a silent no-op.
#pragma once

namespace {
// Copies 16 bytes from global `src` to shared `dst` (both 16-byte aligned): the first `src_bytes`
// (0 or 16 here) from src, the rest zeros. It lands by the next mae_cp_async_wait that covers its group.
__device__ __forceinline__ void mae_cp_async16(void* dst, const void* src, int src_bytes) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::cp_async(dst, src, 16, src_bytes);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(src_bytes) : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// Closes this thread's group of copies issued since the last commit.
__device__ __forceinline__ void mae_cp_async_commit() {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::cp_async_commit();
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// Waits until at most the newest `Pending` committed groups of this thread are still in flight
// (the others have landed in shared memory; other threads see them after a __syncthreads()).
template <int Pending> __device__ __forceinline__ void mae_cp_async_wait() {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::cp_async_wait(Pending);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending) : "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// ldmatrix .x4: lane l names row l % 8 of matrix l / 8 (16 bytes of shared memory); r[i] gets its
// part of matrix i: elements (l / 4, 2 (l % 4) + {0, 1}), or with Trans (2 (l % 4) + {0, 1}, l / 4).
template <bool Trans> __device__ __forceinline__ void mae_ldmatrix_x4(uint32_t* r, const void* row) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::ldmatrix(r, 4, Trans, row);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(row));
  if (Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}
}  // namespace
