// device_count_test.cpp: the emulator's performance counters (emu/src/device_count.cpp) on kernels
// whose answers are known: a coalesced copy (4 sectors per request of 32 floats, the ideal), a
// strided copy (32 sectors where 4 would do), shared-memory reads with no conflict, a 2-way and a
// 32-way bank conflict and a broadcast, 16-byte shared reads (4 phases), tensor-core instructions
// counted per warp, a barrier-free (flat) launch counted as the fibers count it, and block sampling
// (MAE_EMU_SAMPLE_BLOCKS: the middle block of each stratum of a grid) and DRAM bytes estimated from
// the sample: scaled, at most the span the sampled blocks reached in each buffer, and cp.async
// copies (their loads counted as asynchronous, a warp's wait that lands them counted once), and a
// persistent kernel's tiles (MAE_COUNT_TILE: a block's sectors and the DRAM bytes counted per tile;
// sampled, a block's first and last tiles: MAE_TILES_STEP). One line per check; exit 1 on any failure.
#include <cuda_runtime.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emu_test.h"
#include "async_copy.cuh"
#include "mae_device.cuh"

namespace {
using namespace emu_test;
std::string g_file;

// ---- kernels ----
__global__ void copy_coalesced(float* out, const float* in) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i];
}
__global__ void copy_twice(float* out, const float* in) {
  out[blockIdx.x * 32 + threadIdx.x] = in[threadIdx.x] + in[(threadIdx.x + 1) % 32];
}
__global__ void copy_strided(float* out, const float* in) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * 32];
}
// Shared reads at word stride `stride` (1: no conflict, 2: 2-way, 32: 32-way, 0: one word for all).
__global__ void shared_stride(float* out, const float* in, int stride) {
  MAE_SHARED(float, s, [1024]);
  for (int i = threadIdx.x; i < 1024; i += blockDim.x) s[i] = in[i];
  __syncthreads();
  out[threadIdx.x] = s[(threadIdx.x * stride) % 1024];
}
// 16-byte shared accesses (a float4 on a GPU; a GCC vector here, so that the host compiler makes one
// 16-byte access of it).
using Float4 = float __attribute__((vector_size(16)));
__global__ void shared_vec4(float* out, const float* in) {
  MAE_SHARED_ALIGNED(16, Float4, s, [32]);
  s[threadIdx.x] = Float4{in[threadIdx.x], 0.f, 0.f, 0.f};
  __syncthreads();
  const Float4 v = s[31 - threadIdx.x];
  out[threadIdx.x] = v[0] + v[1] + v[2] + v[3];
}
__global__ void three_mmas(float* out) {
  uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float c[4] = {0.f, 0.f, 0.f, 0.f};
  for (int k = 0; k < 3; ++k) ::mae_emu::mma_bf16_16816(c, a, b);
  out[threadIdx.x] = c[0];
}
// Two groups of `per` 16-byte copies a thread (a float4 each; 64 threads), each waited for; a plain
// load after.
__global__ void async_groups(float* out, const float* in, int per) {
  MAE_SHARED_ALIGNED(16, float, s, [2 * 8 * 32 * 4]);
  for (int g = 0; g < 2; ++g) {
    for (int i = 0; i < per; ++i) {
      const int c = (g * per + i) * 64 + threadIdx.x;
      mae_cp_async16(s + 4 * c, in + 4 * c, 16);
    }
    mae_cp_async_commit();
    mae_cp_async_wait<0>();
  }
  mae_cp_async_wait<0>();  // nothing left to land: not a wait for loads
  out[threadIdx.x] = s[4 * threadIdx.x] + in[threadIdx.x];
}
__global__ void mark_block(float* out) {
  if (threadIdx.x == 0) out[blockIdx.x] = 1.f;
}
// Each block reads the same 32 floats of `shared` and writes its own 32 floats of `out`.
__global__ void shared_and_own(float* out, const float* shared) {
  out[blockIdx.x * 32 + threadIdx.x] = shared[threadIdx.x];
}

// A persistent grid: block b runs tiles b, b + gridDim.x, ... of `tiles`, each copying the same 32
// floats of `in` to its own 32 of `out`.
__global__ void persistent_tiles(float* out, const float* in, int tiles) {
  const int step = static_cast<int>(MAE_TILES_STEP(blockIdx.x, tiles, gridDim.x));
  for (int t = blockIdx.x; t < tiles; t += step) {
    if (threadIdx.x == 0) MAE_COUNT_TILE(tiles);
    __syncthreads();
    out[t * 32 + threadIdx.x] = in[threadIdx.x];
    __syncthreads();
  }
}

// ---- reading the counts ----
std::string last_line(const char* kernel) { return count_line(g_file, kernel); }
const auto field = count_field;

template <typename T>
T* device_zeros(size_t n) {
  T* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), n * sizeof(T));
  cudaMemset(d, 0, n * sizeof(T));
  return d;
}

void check_global() {
  float* in = device_zeros<float>(64 * 32);
  float* out = device_zeros<float>(64);
  MAE_LAUNCH(copy_coalesced, 1, 64, 0, nullptr, out, in);
  std::string l = last_line("copy_coalesced");
  check(field(l, "global_load", "requests") == 2 && field(l, "global_load", "sectors") == 8 &&
            field(l, "global_load", "ideal") == 8,
        "a coalesced copy of 64 floats: 2 load requests of 4 sectors, the ideal: " + l);
  check(field(l, "global_store", "requests") == 2 && field(l, "global_store", "sectors") == 8,
        "and 2 store requests of 4 sectors");
  check(field(l, "", "unique_sectors") == 16, "16 distinct sectors (8 read, 8 written)");
  check(field(l, "", "dram_bytes") == 16 * 32, "all blocks ran: DRAM is the distinct sectors, 512 bytes");
  MAE_LAUNCH(copy_strided, 1, 64, 0, nullptr, out, in);
  l = last_line("copy_strided");
  check(field(l, "global_load", "requests") == 2 && field(l, "global_load", "sectors") == 64 &&
            field(l, "global_load", "ideal") == 8,
        "a copy reading every 32nd float: 32 sectors a request where 4 would do: " + l);
  MAE_LAUNCH(copy_twice, 2, 32, 0, nullptr, out, in);
  l = last_line("copy_twice");
  check(field(l, "global_load", "sectors") == 16 && field(l, "", "block_sectors") == 16 &&
            field(l, "", "unique_sectors") == 12,
        "two blocks each reading the same 32 floats twice and writing 32 of their own: 16 sectors read, 4 read "
        "and 4 written distinct per block (16), 12 distinct in all: " + l);
  cudaFree(in);
  cudaFree(out);
}

void check_shared() {
  float* in = device_zeros<float>(1024);
  float* out = device_zeros<float>(32);
  const struct {
    int stride;
    long long wavefronts;
    const char* what;
  } cases[] = {{1, 1, "consecutive words: no conflict"},
               {2, 2, "every 2nd word: a 2-way bank conflict"},
               {32, 32, "every 32nd word: a 32-way bank conflict"},
               {0, 1, "one word for all lanes: a broadcast"}};
  for (const auto& c : cases) {
    MAE_LAUNCH(shared_stride, 1, 32, 0, nullptr, out, in, c.stride);
    const std::string l = last_line("shared_stride");
    check(field(l, "shared_load", "requests") == 1 && field(l, "shared_load", "wavefronts") == c.wavefronts &&
              field(l, "shared_load", "ideal") == 1,
          std::string("shared reads of ") + c.what + ": " + l);
  }
  const std::string st = last_line("shared_stride");
  check(field(st, "shared_store", "requests") == 32 && field(st, "shared_store", "wavefronts") == 32,
        "32 conflict-free store requests staging 1024 floats with 32 threads");
  MAE_LAUNCH(shared_vec4, 1, 32, 0, nullptr, out, in);
  const std::string v = last_line("shared_vec4");
  check(field(v, "shared_load", "requests") == 1 && field(v, "shared_load", "wavefronts") == 4 &&
            field(v, "shared_load", "ideal") == 4,
        "16-byte shared reads: 4 phases of 8 lanes, no conflict: " + v);
  cudaFree(in);
  cudaFree(out);
}

void check_mma_and_flat() {
  float* out = device_zeros<float>(128);
  MAE_LAUNCH(three_mmas, 2, 64, 0, nullptr, out);
  check(field(last_line("three_mmas"), "", "mma") == 12, "3 MMAs per warp, 2 warps, 2 blocks: 12");
  float* in = device_zeros<float>(64);
  MAE_LAUNCH_FLAT(copy_coalesced, 1, 64, 0, nullptr, out, in);
  const std::string l = last_line("copy_coalesced");
  check(field(l, "global_load", "requests") == 2 && field(l, "global_load", "sectors") == 8,
        "a barrier-free (flat) launch is counted by warps as well: " + l);
  cudaFree(in);
  cudaFree(out);
}

void check_async() {
  float* in = device_zeros<float>(2 * 8 * 32 * 4);
  float* out = device_zeros<float>(64);
  MAE_LAUNCH(async_groups, 1, 64, 0, nullptr, out, in, 3);
  const std::string l = last_line("async_groups");
  // per warp: 2 groups of 3 copy requests, 2 waits that landed them, 1 plain load; 2 warps
  check(field(l, "global_load", "requests") == 2 * 7 && field(l, "", "async_loads") == 2 * 6 &&
            field(l, "", "async_waits") == 2 * 2 && field(l, "global_load", "sectors") == 2 * (6 * 16 + 4),
        "cp.async: 6 asynchronous load requests a warp (16 sectors each), 2 waits, 1 plain load: " + l);
  cudaFree(in);
  cudaFree(out);
}

void check_sampling() {
  float* out = device_zeros<float>(100);
  ::mae_emu::set_block_sample(5);
  MAE_LAUNCH_FLAT(mark_block, 100, 32, 0, nullptr, out);
  ::mae_emu::set_block_sample(0);
  std::vector<float> h(100);
  cudaMemcpy(h.data(), out, 100 * sizeof(float), cudaMemcpyDeviceToHost);
  int ran = 0;
  for (float x : h) ran += x == 1.f;
  const std::string l = last_line("mark_block");
  check(ran == 5 && h[10] == 1.f && h[30] == 1.f && h[50] == 1.f && h[70] == 1.f && h[90] == 1.f &&
            field(l, "", "blocks_run") == 5,
        "MAE_EMU_SAMPLE_BLOCKS=5 runs 5 of 100 blocks, the middle one of each fifth: " + l);
  float* in = device_zeros<float>(32);
  float* big = device_zeros<float>(100 * 32);
  ::mae_emu::set_block_sample(4);
  MAE_LAUNCH_FLAT(shared_and_own, 100, 32, 0, nullptr, big, in);
  ::mae_emu::set_block_sample(0);
  // read: 4 sectors, shared by all blocks (span 4, scaled count 100); written: 4 sectors per block run,
  // blocks 12, 37, 62, 87 (span 76 * 4 sectors, scaled count 400)
  const std::string s = last_line("shared_and_own");
  check(field(s, "", "dram_bytes") == 32 * (4 + 4 * (87 - 12) + 4),
        "DRAM from a sample: a buffer every block reads counted once, the written one by its span: " + s);
  cudaFree(in);
  cudaFree(big);
  cudaFree(out);
}

void check_tiles() {
  float* in = device_zeros<float>(32);
  float* out = device_zeros<float>(10 * 32);
  MAE_LAUNCH(persistent_tiles, 4, 32, 0, nullptr, out, in, 10);
  // every block runs all its tiles (0, 4, 8; 1, 5, 9; 2, 6; 3, 7), each 4 sectors read and 4 written,
  // counted per tile in the blocks' sets (80; 4 x 4 + 40 were a block's tiles one set)
  const std::string a = last_line("persistent_tiles");
  check(field(a, "", "tiles") == 10 && field(a, "", "tiles_total") == 10 && field(a, "", "block_sectors") == 80,
        "a persistent grid: every tile run, a block's sectors counted per tile: " + a);
  ::mae_emu::set_block_sample(2);
  MAE_LAUNCH(persistent_tiles, 4, 32, 0, nullptr, out, in, 10);
  ::mae_emu::set_block_sample(0);
  // blocks 1 and 3 run their first and last tiles (1, 9 and 3, 7; MAE_TILES_STEP): 4 of 10 tiles (32
  // sectors in the blocks' sets); DRAM: the read sectors once, the written ones by their span (tiles
  // 1-9: 36 sectors; scaled, their count 16 x 2.5)
  const std::string l = last_line("persistent_tiles");
  check(field(l, "", "tiles") == 4 && field(l, "", "tiles_total") == 10 && field(l, "", "block_sectors") == 32 &&
            field(l, "", "dram_bytes") == 32 * (4 + 36),
        "a persistent grid sampled: two tiles a block run, the launch's tiles known: " + l);
  cudaFree(in);
  cudaFree(out);
}
}  // namespace

int main() {
  g_file = "mae_emu_count_test." + std::to_string(getpid()) + ".jsonl";
  ::mae_emu::set_checks(::mae_emu::kAllChecks);
  ::mae_emu::set_count_file(g_file.c_str());
  check_global();
  check_shared();
  check_mma_and_flat();
  check_sampling();
  check_async();
  check_tiles();
  std::remove(g_file.c_str());
  return finish("device_count_test");
}
