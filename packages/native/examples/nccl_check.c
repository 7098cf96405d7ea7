/* nccl_check.c: NCCL through libmae_cuda's C ABI with a world-of-1 communicator on cuda:0, for a
 * GPU machine without Node.js: loads NCCL (argv[1]: a library path or ':'-separated list; default:
 * MAE_NCCL_PATH, NCCL_HOME, the loader's search), all-reduces f32 and bf16 tensors in place (sum
 * and avg, on a stream and on the current stream), broadcasts a u8 tensor, replays both inside a
 * CUDA graph, checks that bad arguments are refused with clear errors, and destroys the
 * communicator. Exits 0 when every check passes, 77 (skipped) without a GPU or NCCL, 1 otherwise. */
#include <mae_cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                \
  do {                                                             \
    if ((call) != MAE_OK) {                                        \
      fprintf(stderr, "%s failed: %s\n", #call, mae_last_error()); \
      return 1;                                                    \
    }                                                              \
  } while (0)

/* call must fail with an error containing want */
#define REFUSED(call, want)                                                                            \
  do {                                                                                                 \
    if ((call) == MAE_OK || strstr(mae_last_error(), (want)) == NULL) {                                \
      fprintf(stderr, "%s: expected an error containing '%s', got '%s'\n", #call, (want), mae_last_error()); \
      return 1;                                                                                        \
    }                                                                                                  \
  } while (0)

enum { N = (1 << 20) + 3 };

static mae_tensor* make(mae_dtype dtype, mae_device dev, const void* host) {
  const int64_t shape[1] = {N};
  mae_tensor* t = NULL;
  if (mae_tensor_create(&t, dtype, shape, 1, dev) != MAE_OK) return NULL;
  if (mae_tensor_copy_from_host(t, host, mae_tensor_nbytes(t), NULL) != MAE_OK) return NULL;
  return t;
}

/* 0 when t (read back) equals expected byte for byte */
static int same(const mae_tensor* t, const void* expected, const char* what) {
  const size_t n = mae_tensor_nbytes(t);
  void* got = malloc(n);
  int bad = got == NULL || mae_tensor_copy_to_host(got, t, n, NULL) != MAE_OK || memcmp(got, expected, n) != 0;
  free(got);
  if (bad) fprintf(stderr, "%s: the tensor changed (%s)\n", what, mae_last_error());
  else printf("ok   %s\n", what);
  return bad;
}

int main(int argc, char** argv) {
  char path[1024];
  if (mae_nccl_load(argc > 1 ? argv[1] : NULL, path, sizeof path) != MAE_OK) {
    printf("SKIP: %s\n", mae_last_error());
    return 77;
  }
  int version = 0;
  CHECK(mae_nccl_version(&version));
  printf("NCCL %d from %s\n", version, path);
  if (mae_cuda_device_count() == 0) {
    printf("SKIP: no CUDA device\n");
    return 77;
  }
  const mae_device dev = {MAE_DEVICE_CUDA, 0}, cpu = {MAE_DEVICE_CPU, 0};
  unsigned char id[MAE_NCCL_UNIQUE_ID_BYTES];
  CHECK(mae_nccl_unique_id(id));
  mae_nccl_comm* comm = NULL;
  REFUSED(mae_nccl_comm_init(&comm, 1, 0, id, cpu), "need a CUDA device, got cpu");
  REFUSED(mae_nccl_comm_init(&comm, 2, 2, id, dev), "rank must be in [0, 2)");
  CHECK(mae_nccl_comm_init(&comm, 1, 0, id, dev));

  float* f = malloc(N * sizeof(float));
  uint16_t* h = malloc(N * sizeof(uint16_t));
  uint8_t* b = malloc(N);
  for (int i = 0; i < N; ++i) {
    f[i] = (float)(i % 1001) * 0.25f - 100.0f;
    h[i] = (uint16_t)(0x3f80 + (i % 97)); /* bf16 bits: 1.0 .. 1.75 */
    b[i] = (uint8_t)(i * 7);
  }
  mae_stream* s = NULL;
  CHECK(mae_stream_create(&s, dev));
  mae_tensor *tf = make(MAE_F32, dev, f), *th = make(MAE_BF16, dev, h), *tb = make(MAE_U8, dev, b);
  if (tf == NULL || th == NULL || tb == NULL) return fprintf(stderr, "tensors: %s\n", mae_last_error()), 1;
  int bad = 0;

  CHECK(mae_nccl_all_reduce(comm, tf, MAE_NCCL_SUM, s));
  CHECK(mae_nccl_all_reduce(comm, tf, MAE_NCCL_AVG, s));
  CHECK(mae_stream_synchronize(s));
  bad |= same(tf, f, "all-reduce f32 sum + avg on a stream");
  CHECK(mae_nccl_group_start());
  CHECK(mae_nccl_all_reduce(comm, th, MAE_NCCL_SUM, NULL));
  CHECK(mae_nccl_all_reduce(comm, th, MAE_NCCL_AVG, NULL));
  CHECK(mae_nccl_group_end());
  bad |= same(th, h, "all-reduce bf16 sum + avg on the current stream, grouped");
  CHECK(mae_nccl_broadcast(comm, tb, 0, s));
  CHECK(mae_stream_synchronize(s));
  bad |= same(tb, b, "broadcast u8 from root 0");

  mae_graph* g = NULL;
  CHECK(mae_graph_capture_begin(s));
  if (mae_nccl_all_reduce(comm, tf, MAE_NCCL_SUM, NULL) != MAE_OK || mae_nccl_broadcast(comm, th, 0, NULL) != MAE_OK) {
    fprintf(stderr, "capture: %s\n", mae_last_error());
    (void)mae_graph_capture_end(s, &g);
    return 1;
  }
  CHECK(mae_graph_capture_end(s, &g));
  printf("ok   captured a graph of %zu node(s)\n", mae_graph_num_nodes(g));
  for (int i = 0; i < 3; ++i) CHECK(mae_graph_launch(g, s));
  CHECK(mae_stream_synchronize(s));
  bad |= same(tf, f, "graph replay: all-reduce f32");
  bad |= same(th, h, "graph replay: broadcast bf16");
  mae_graph_destroy(g);

  mae_tensor *ti = NULL, *tc = NULL;
  const int64_t four[1] = {4};
  CHECK(mae_tensor_create(&ti, MAE_I32, four, 1, dev));
  CHECK(mae_tensor_create(&tc, MAE_F32, four, 1, cpu));
  REFUSED(mae_nccl_all_reduce(comm, ti, MAE_NCCL_SUM, s), "only f32 and bf16 tensors can be all-reduced, got i32");
  REFUSED(mae_nccl_all_reduce(comm, tc, MAE_NCCL_SUM, s), "the tensor is on cpu but the communicator on cuda:0");
  REFUSED(mae_nccl_all_reduce(comm, tf, 2, s), "op must be 0 (sum) or 1 (avg), got 2");
  REFUSED(mae_nccl_broadcast(comm, tf, 1, s), "root must be in [0, 1)");
  printf("ok   bad arguments refused\n");

  int async = -1;
  CHECK(mae_nccl_comm_async_error(comm, &async));
  if (async != 0) return fprintf(stderr, "async error %d: %s\n", async, mae_nccl_error_string(async)), 1;
  CHECK(mae_nccl_comm_destroy(comm));
  mae_tensor_release(ti);
  mae_tensor_release(tc);
  mae_tensor_release(tf);
  mae_tensor_release(th);
  mae_tensor_release(tb);
  mae_stream_destroy(s);
  free(f);
  free(h);
  free(b);
  printf(bad ? "FAIL\n" : "PASS: NCCL world of 1 on cuda:0\n");
  return bad;
}
