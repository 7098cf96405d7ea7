/* c_abi_example.c: a small C program using libmae_cuda's C ABI (see docs/C_ABI.md). It creates a
 * tensor on the CPU (or on cuda:0 when one is available), copies data in, views and copies it,
 * reads it back, and shows the error handling (a view too large, a CPU thread count out of range).
 * The headers and the library must be of one version (MAE_CUDA_VERSION_STRING, mae_version()).
 * Exits 0 when every check passes. */
#include <mae_cuda.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                \
  do {                                                             \
    if ((call) != MAE_OK) {                                        \
      fprintf(stderr, "%s failed: %s\n", #call, mae_last_error()); \
      return 1;                                                    \
    }                                                              \
  } while (0)

int main(void) {
  if (strcmp(mae_version(), MAE_CUDA_VERSION_STRING) != 0) {
    fprintf(stderr, "headers of mae-cuda %s, library %s\n", MAE_CUDA_VERSION_STRING, mae_version());
    return 1;
  }
  printf("mae-cuda %s (MAE_CUDA_VERSION %d), CUDA %s (%s), %d CUDA device(s), %d CPU thread(s)\n", mae_version(),
         MAE_CUDA_VERSION, mae_cuda_compiled() ? "compiled" : "not compiled", mae_cuda_architectures(), mae_cuda_device_count(),
         mae_cpu_threads());

  mae_device device = {MAE_DEVICE_CPU, 0};
  if (mae_cuda_device_count() > 0) device.type = MAE_DEVICE_CUDA;

  const int64_t shape[2] = {2, 3};
  mae_tensor* x = NULL;
  CHECK(mae_tensor_create(&x, MAE_F32, shape, 2, device));

  const float host[6] = {1, 2, 3, 4, 5, 6};
  CHECK(mae_tensor_copy_from_host(x, host, sizeof host, NULL));

  /* A view of the second row, copied into a new tensor. */
  const int64_t row_shape[1] = {3};
  mae_tensor* row = NULL;
  mae_tensor* copy = NULL;
  CHECK(mae_tensor_view(&row, x, row_shape, 1, 3));
  CHECK(mae_tensor_create(&copy, MAE_F32, row_shape, 1, device));
  CHECK(mae_tensor_copy(copy, row, NULL));

  float back[3] = {0, 0, 0};
  CHECK(mae_tensor_copy_to_host(back, copy, sizeof back, NULL));
  printf("row 1: %g %g %g\n", back[0], back[1], back[2]);
  if (back[0] != 4 || back[1] != 5 || back[2] != 6) {
    fprintf(stderr, "unexpected values\n");
    return 1;
  }

  /* Errors: a view with too many elements fails and says why. */
  const int64_t bad_shape[2] = {3, 3};
  mae_tensor* bad = NULL;
  if (mae_tensor_view(&bad, x, bad_shape, 2, 0) != MAE_ERROR || strstr(mae_last_error(), "9 elements") == NULL) {
    fprintf(stderr, "expected a view error, got: %s\n", mae_last_error());
    return 1;
  }
  printf("expected error: %s\n", mae_last_error());

  /* CPU threads: 1 to mae_cpu_max_threads(); anything else is refused and changes nothing. */
  const int threads = mae_cpu_threads(), max = mae_cpu_max_threads();
  const int bad_counts[3] = {0, -1, max + 1};
  for (int i = 0; i < 3; ++i) {
    if (mae_set_cpu_threads(bad_counts[i]) != MAE_ERROR || strstr(mae_last_error(), "n must be from 1 to") == NULL ||
        mae_cpu_threads() != threads) {
      fprintf(stderr, "mae_set_cpu_threads(%d): expected an error, got: %s\n", bad_counts[i], mae_last_error());
      return 1;
    }
  }
  if (mae_set_cpu_threads(100000) != MAE_ERROR) return 1;
  printf("expected error: %s\n", mae_last_error());
  CHECK(mae_set_cpu_threads(max));
  CHECK(mae_set_cpu_threads(1));
  CHECK(mae_set_cpu_threads(threads));
  printf("OpenMP wait policy: %s\n", mae_cpu_wait_policy());

  size_t allocated = 0, reserved = 0, peak = 0;
  CHECK(mae_memory_stats(device, &allocated, &reserved, &peak));
  printf("allocator: %zu allocated, %zu reserved, %zu peak bytes\n", allocated, reserved, peak);

  mae_tensor_release(copy);
  mae_tensor_release(row); /* the storage lives until x's last reference goes */
  mae_tensor_release(x);
  return 0;
}
