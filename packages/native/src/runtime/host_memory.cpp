// host_memory.cpp: pinning host memory that other code owns (the data loader's batch buffers) for
// fast host-to-device copies: cudaHostRegister / cudaHostUnregister. Without CUDA, or without a
// device, pinning is a no-op that says so (*pinned = 0).
#include "runtime_impl.h"

extern "C" {

mae_status mae_host_pin(void* ptr, size_t nbytes, int* pinned) {
  const char* fn = "mae_host_pin";
  if (pinned == nullptr) return mae_fail("%s: pinned is NULL", fn);
  *pinned = 0;
  if (ptr == nullptr || nbytes == 0) return mae_fail("%s: nothing to pin (ptr %p, %zu bytes)", fn, ptr, nbytes);
#ifdef MAE_WITH_CUDA
  if (mae_cuda_device_count() == 0) return MAE_OK;
  const cudaError_t err = cudaHostRegister(ptr, nbytes, cudaHostRegisterPortable);
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaHostRegister");
  *pinned = 1;
#endif
  return MAE_OK;
}

mae_status mae_host_unpin(void* ptr) {
  const char* fn = "mae_host_unpin";
  if (ptr == nullptr) return mae_fail("%s: ptr is NULL", fn);
#ifdef MAE_WITH_CUDA
  if (mae_cuda_device_count() == 0) return mae_fail("%s: no CUDA device: nothing was pinned", fn);
  const cudaError_t err = cudaHostUnregister(ptr);
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaHostUnregister");
  return MAE_OK;
#else
  return mae_fail("%s: built without CUDA: nothing was pinned", fn);
#endif
}

}  // extern "C"
