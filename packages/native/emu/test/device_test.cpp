// device_test.cpp: the emulator's device side on kernels of its own (each check prints one line;
// exit 1 on any failure): a block reduction with shuffles and shared memory equal under every
// schedule; a missing __syncthreads seen as different bytes under the forward and reverse
// schedules (with the access checks off); shared memory poisoned at block start; a divergent barrier, a collective after lanes
// exited, static shared memory over 48 KiB and __trap() reported as launch failures naming the
// kernel; barrier-free (flat) launches: the schedules' thread orders, exact results, a barrier or
// shuffle reached there reported; the bf16 MMA against a float matrix product; 16-bit conversions
// against kernels.h.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "emu_test.h"
#include "mae_device.cuh"

namespace {
using namespace emu_test;


// The access checks off for a scope: the races and poisoned reads below are meant to happen (the
// checks that report them are tested in device_check_test.cpp).
struct ChecksOff {
  unsigned saved = ::mae_emu::checks();
  ChecksOff() { ::mae_emu::set_checks(0); }
  ~ChecksOff() { ::mae_emu::set_checks(saved); }
};

// ---- kernels ----
__global__ void block_sum(const float* x, float* out, int n) {
  MAE_SHARED(float, red, [32]);
  float v = 0.f;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (unsigned w = 0; w < (blockDim.x + 31) / 32; ++w) s += red[w];
    out[blockIdx.x] = s;
  }
}

template <bool Barrier>
__device__ void neighbour_body(float* out) {
  MAE_SHARED(float, s, [64]);
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  if (Barrier) __syncthreads();
  out[threadIdx.x] = s[(threadIdx.x + 1) % blockDim.x];
}
__global__ void neighbour_synced(float* out) { neighbour_body<true>(out); }
__global__ void neighbour_racy(float* out) { neighbour_body<false>(out); }

__global__ void read_dynamic(float* out) {
  MAE_DYNAMIC_SHARED(16, float, dyn);
  if (blockIdx.x == 0) dyn[threadIdx.x] = 1.f;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = dyn[threadIdx.x];
}

__global__ void early_exit(float* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1.f;
}

__global__ void shuffle_after_exit(float* out) {
  if (threadIdx.x == 3) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, static_cast<float>(threadIdx.x), 1);
}

__global__ void too_much_static(float* out) {
  MAE_SHARED(float, big, [16 * 1024]);  // 64 KiB
  big[threadIdx.x] = 1.f;
  out[0] = big[0];
}

__global__ void traps(float*) { __trap(); }

__global__ void lanes(int* out) { out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, static_cast<int>(threadIdx.x), 5); }
// lane l reads lane (3 l + 1) % 32, and within segments of 8 lanes, lane 5 of its segment.
__global__ void lanes_idx(int* out) {
  const int l = static_cast<int>(threadIdx.x);
  out[l] = __shfl_sync(0xffffffffu, 100 + l, (3 * l + 1) % 32);
  out[32 + l] = __shfl_sync(0xffffffffu, 100 + l, 5, 8);
}

// One warp: D (16x8) = A (16x16) B (16x8), fragments loaded as PTX's mma.m16n8k16 lays them out.
__global__ void mma_tile(const __nv_bfloat16* A, const __nv_bfloat16* B, float* D) {
  const int lane = threadIdx.x, g = lane >> 2, t = lane & 3;
  uint32_t a[4], b[2];
  auto pack = [](__nv_bfloat16 lo, __nv_bfloat16 hi) {
    return static_cast<uint32_t>(__bfloat16_as_ushort(lo)) | (static_cast<uint32_t>(__bfloat16_as_ushort(hi)) << 16);
  };
  for (int r = 0; r < 4; ++r) {
    const int row = g + 8 * (r & 1), col = 2 * t + 8 * (r >> 1);
    a[r] = pack(A[row * 16 + col], A[row * 16 + col + 1]);
  }
  for (int r = 0; r < 2; ++r) {
    const int k = 2 * t + 8 * r;
    b[r] = pack(B[k * 8 + g], B[(k + 1) * 8 + g]);
  }
  float c[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  ::mae_emu::mma_bf16_16816(c, a, b);
  for (int i = 0; i < 4; ++i) D[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = c[i];
}

// Barrier-free kernels (MAE_LAUNCH_FLAT): the order threads ran in, and a grid-stride axpy.
int g_order_next = 0;
__global__ void record_order(int* order) { order[g_order_next++] = static_cast<int>(threadIdx.x); }
__global__ void axpy(float* y, const float* x, float a, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] += a * x[i];
}
__global__ void flat_with_barrier(float* out) {
  out[threadIdx.x] = 1.f;
  __syncthreads();
}
__global__ void flat_with_shuffle(float* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

// ---- checks ----
void check_block_sum() {
  const int n = 10007, blocks = 5, threads = 96;  // a partial last warp
  std::vector<float> x(n);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : x) v = u(rng);
  float* dx = device_copy(x);
  float* dout = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&dout), blocks * sizeof(float));
  std::vector<float> first;
  bool same = true, close = true;
  for (const char* s : kSchedules) {
    ::mae_emu::set_schedule_name(s);
    MAE_LAUNCH(block_sum, blocks, threads, 0, nullptr, dx, dout, n);
    check(cudaGetLastError() == cudaSuccess, std::string("block_sum launches under ") + s);
    const std::vector<float> got = host_copy(dout, blocks);
    double total = 0, want = 0;
    for (float v : got) total += v;
    for (float v : x) want += v;
    close = close && std::fabs(total - want) < 1e-3;
    if (first.empty()) first = got;
    same = same && std::memcmp(first.data(), got.data(), blocks * sizeof(float)) == 0;
  }
  ::mae_emu::set_schedule_name("forward");
  check(close, "block_sum equals the host sum");
  check(same, "block_sum gives the same bytes under every schedule");
  cudaFree(dx);
  cudaFree(dout);
}

std::vector<float> run_neighbour(void (*k)(float*), const char* schedule) {
  float* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), 64 * sizeof(float));
  ::mae_emu::set_schedule_name(schedule);
  ::mae_emu::launch("neighbour", false, k, dim3(1), dim3(64), 0, nullptr, d);
  ::mae_emu::set_schedule_name("forward");
  std::vector<float> out = host_copy(d, 64);
  cudaFree(d);
  return out;
}

void check_race() {
  ChecksOff off;
  const auto synced_f = run_neighbour(neighbour_synced, "forward");
  const auto synced_r = run_neighbour(neighbour_synced, "reverse");
  check(std::memcmp(synced_f.data(), synced_r.data(), 64 * 4) == 0 && synced_f[0] == 1.f && synced_f[63] == 0.f,
        "with its __syncthreads the neighbour kernel gives the same bytes forward and reverse");
  const auto racy_f = run_neighbour(neighbour_racy, "forward");
  const auto racy_r = run_neighbour(neighbour_racy, "reverse");
  check(std::memcmp(racy_f.data(), racy_r.data(), 64 * 4) != 0,
        "without it the forward and reverse schedules give different bytes (the race is seen)");
  check(std::isnan(racy_f[0]), "the forward schedule reads poisoned (NaN) shared memory");
}

void check_dynamic() {
  ChecksOff off;
  float* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), 2 * 32 * sizeof(float));
  MAE_LAUNCH(read_dynamic, 2, 32, 32 * sizeof(float), nullptr, d);
  const auto out = host_copy(d, 64);
  check(out[0] == 1.f && std::isnan(out[32]), "dynamic shared memory is per block and poisoned at block start");
  cudaFree(d);
}

void check_fault(void (*k)(float*), unsigned threads, const char* name, const char* needle, bool flat = false) {
  float* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), 64 * sizeof(float));
  const cudaError_t e = ::mae_emu::launch(name, flat, k, dim3(2), dim3(threads), 0, nullptr, d);
  const std::string detail = ::mae_emu::device_fault_detail();
  const cudaError_t last = cudaGetLastError();
  check(e != cudaSuccess && last != cudaSuccess && detail.find(name) != std::string::npos &&
            detail.find(needle) != std::string::npos,
        std::string(name) + " fails the launch: " + detail);
  cudaFree(d);
}

// The order a block's threads ran in under a schedule, flat or with fibers (record_order has no
// barrier, so with fibers each thread runs to its end in one turn too).
std::vector<int> run_order(const char* schedule, bool flat, unsigned threads) {
  int* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), threads * sizeof(int));
  g_order_next = 0;
  ::mae_emu::set_schedule_name(schedule);
  ::mae_emu::launch("record_order", flat, record_order, dim3(1), dim3(threads), 0, nullptr, d);
  ::mae_emu::set_schedule_name("forward");
  std::vector<int> out = host_copy(d, threads);
  cudaFree(d);
  return out;
}

void check_flat() {
  const unsigned n = 80;  // a partial last warp
  std::vector<int> fwd(n), rev(n), wrev;
  for (unsigned i = 0; i < n; ++i) fwd[i] = static_cast<int>(i), rev[i] = static_cast<int>(n - 1 - i);
  for (int w = 2; w >= 0; --w)
    for (int i = w * 32; i < std::min<int>(n, w * 32 + 32); ++i) wrev.push_back(i);
  check(run_order("forward", true, n) == fwd && run_order("warp", true, n) == fwd,
        "a flat launch runs threads in order under forward and warp");
  check(run_order("reverse", true, n) == rev, "a flat launch runs threads in reverse under reverse");
  check(run_order("warp-reverse", true, n) == wrev, "a flat launch runs warps last first under warp-reverse");
  const auto sh = run_order("shuffle:7", true, n);
  check(sh == run_order("shuffle:7", false, n) && sh != fwd && sh != rev,
        "a flat launch runs a shuffled order, the one the fibers run");

  const int len = 1000;
  std::vector<float> x(len), y(len);
  for (int i = 0; i < len; ++i) x[i] = 0.25f * i, y[i] = 1.f - i;
  float* dx = device_copy(x);
  bool same = true;
  for (const char* s : kSchedules) {
    float* dy = device_copy(y);
    ::mae_emu::set_schedule_name(s);
    MAE_LAUNCH_FLAT(axpy, 3, 96, 0, nullptr, dy, dx, 2.f, len);
    ::mae_emu::set_schedule_name("forward");
    same = cudaGetLastError() == cudaSuccess && same;
    const auto got = host_copy(dy, len);
    for (int i = 0; i < len; ++i) same = same && got[i] == y[i] + 2.f * x[i];
    cudaFree(dy);
  }
  check(same, "a flat grid-stride axpy is exact under every schedule");
  cudaFree(dx);
}

void check_shuffle_lanes() {
  int* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), 32 * sizeof(int));
  MAE_LAUNCH(lanes, 1, 32, 0, nullptr, d);
  const auto out = host_copy(d, 32);
  bool ok = true;
  for (int i = 0; i < 32; ++i) ok = ok && out[i] == (i ^ 5);
  check(ok, "__shfl_xor_sync(v, 5) reads lane ^ 5");
  cudaFree(d);
  cudaMalloc(reinterpret_cast<void**>(&d), 64 * sizeof(int));
  MAE_LAUNCH(lanes_idx, 1, 32, 0, nullptr, d);
  const auto idx = host_copy(d, 64);
  ok = true;
  for (int i = 0; i < 32; ++i) ok = ok && idx[i] == 100 + (3 * i + 1) % 32 && idx[32 + i] == 100 + (i & ~7) + 5;
  check(ok, "__shfl_sync(v, s) reads lane s, within segments of `width` lanes of the segment's");
  cudaFree(d);
}

void check_mma() {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<__nv_bfloat16> A(256), B(128);
  for (auto& v : A) v = __float2bfloat16_rn(u(rng));
  for (auto& v : B) v = __float2bfloat16_rn(u(rng));
  auto* dA = device_copy(A);
  auto* dB = device_copy(B);
  float* dD = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&dD), 128 * sizeof(float));
  bool same = true;
  std::vector<float> first;
  for (const char* s : kSchedules) {
    ::mae_emu::set_schedule_name(s);
    MAE_LAUNCH(mma_tile, 1, 32, 0, nullptr, dA, dB, dD);
    const auto D = host_copy(dD, 128);
    if (first.empty()) first = D;
    same = same && std::memcmp(first.data(), D.data(), 128 * 4) == 0;
  }
  ::mae_emu::set_schedule_name("forward");
  double worst = 0;
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      double want = 0.5;
      for (int k = 0; k < 16; ++k) want += double(__bfloat162float(A[m * 16 + k])) * __bfloat162float(B[k * 8 + n]);
      worst = std::fmax(worst, std::fabs(want - first[m * 8 + n]));
    }
  check(worst < 1e-4, "mma m16n8k16 bf16 equals the float product (max error " + std::to_string(worst) + ")");
  check(same, "mma gives the same bytes under every schedule");
  cudaFree(dA);
  cudaFree(dB);
  cudaFree(dD);
}

void check_conversions() {
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> bits;
  bool bf = true, hf = true;
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = bits(rng);
    if (i < 1000) u = (u & 0x807fffffu) | (static_cast<uint32_t>(100 + i % 40) << 23);  // half's range edges
    float f;
    std::memcpy(&f, &u, 4);
    const uint16_t want_bf = mae_f32_to_bf16(f), got_bf = __bfloat16_as_ushort(__float2bfloat16_rn(f));
    const uint16_t want_h = mae_f32_to_f16(f), got_h = __float2half_rn(f).__x;
    bf = bf && (want_bf == got_bf || (std::isnan(f) && (got_bf & 0x7fffu) > 0x7f80u));
    hf = hf && (want_h == got_h || (std::isnan(f) && (got_h & 0x7fffu) > 0x7c00u));
    __half h;
    h.__x = static_cast<uint16_t>(u);
    const float back = __half2float(h), ref = mae_f16_to_f32(static_cast<uint16_t>(u));
    hf = hf && (std::memcmp(&back, &ref, 4) == 0 || (std::isnan(back) && std::isnan(ref)));
  }
  check(bf, "float -> bf16 rounds as the CPU backend's mae_f32_to_bf16");
  check(hf, "float <-> half as the CPU backend's mae_f32_to_f16 / mae_f16_to_f32");
}
}  // namespace

int main() {
  check_block_sum();
  check_race();
  check_dynamic();
  check_shuffle_lanes();
  check_mma();
  check_fault(early_exit, 64, "early_exit", "divergent barrier");
  check_fault(shuffle_after_exit, 32, "shuffle_after_exit", "after some lanes exited");
  check_fault(too_much_static, 64, "too_much_static", "over CUDA's 48 KiB");
  check_fault(traps, 32, "traps", "__trap()");
  check_flat();
  check_fault(flat_with_barrier, 64, "flat_with_barrier", "__syncthreads() in a kernel launched as barrier-free", true);
  check_fault(flat_with_shuffle, 32, "flat_with_shuffle", "warp collective (shuffle, MMA or __syncwarp) in a kernel launched as barrier-free", true);
  check_fault(traps, 32, "traps", "__trap()", true);
  check_conversions();
  return finish("device_test");
}
