// device_check_test.cpp: the emulator's access checks (emu/src/device_check.cpp) on kernels of their
// own, each with a seeded defect that must fail its launch with the right words, and correct
// kernels that must pass under every schedule (no false alarm): memcheck (global memory past the end
// and before the start of an allocation, freed memory, shared memory outside a variable or past the
// dynamic bytes), initcheck (a read of shared memory no thread wrote), racecheck (read-after-write,
// write-after-read, write-after-write between warps and, without a warp collective, within one;
// ordered by __syncthreads or, in one warp, __syncwarp), and MAE_EMU_CHECK's switch. One line per
// check; exit 1 on any failure.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "emu_test.h"
#include "mae_device.cuh"

namespace {
using namespace emu_test;

// ---- kernels with a defect ----
__global__ void write_past_end(float* out, int n) { out[threadIdx.x] = 1.f + static_cast<float>(n); }
__global__ void read_before_start(float* out, int) { out[threadIdx.x + 1] = out[static_cast<int>(threadIdx.x) - 1]; }
__global__ void read_one(float* out, int) { out[0] += 1.f; }

__global__ void static_overflow(float* out, int n) {
  MAE_SHARED(float, tile, [32]);
  tile[threadIdx.x] = 1.f;  // 33 threads
  out[threadIdx.x % n] = 0.f;
}
__global__ void dynamic_overflow(float* out, int n) {
  MAE_DYNAMIC_SHARED(16, float, dyn);
  dyn[threadIdx.x + 1] = 1.f;  // one past the launch's blockDim.x floats for the last thread
  out[threadIdx.x % n] = 0.f;
}
__global__ void uninitialised(float* out, int) {
  MAE_SHARED(float, s, [64]);
  if (threadIdx.x < 32) s[threadIdx.x] = 1.f;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}
template <int Stride>
__global__ void neighbour_racy(float* out, int) {  // reads a neighbour's value with no barrier
  MAE_SHARED(float, s, [64]);
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  out[threadIdx.x] = s[(threadIdx.x + Stride) % blockDim.x];
}
__global__ void same_word(float* out, int) {  // every thread writes one word
  MAE_SHARED(float, s, [1]);
  s[0] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[0];
}
__global__ void broadcast_then_write(float* out, int) {  // many read word 0, then thread 0 rewrites it
  MAE_SHARED(float, s, [1]);
  if (threadIdx.x == 0) s[0] = 1.f;
  __syncthreads();
  out[threadIdx.x] = s[0];
  if (threadIdx.x == 0) s[0] = 2.f;
}

// ---- correct kernels ----
__global__ void warp_exchange(float* out, int) {  // lanes swap through shared memory, ordered by __syncwarp
  MAE_SHARED(float, s, [64]);
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncwarp();
  out[threadIdx.x] = s[threadIdx.x ^ 1];
}
__global__ void broadcast_synced(float* out, int) {
  MAE_SHARED(float, s, [1]);
  if (threadIdx.x == 0) s[0] = 1.f;
  __syncthreads();
  out[threadIdx.x] = s[0];
  __syncthreads();
  if (threadIdx.x == 0) s[0] = 2.f;
  __syncthreads();
  out[threadIdx.x] += s[0];
}
__global__ void bf16_halves(float* out, int) {  // neighbours write the two halves of one word: no race
  MAE_SHARED(__nv_bfloat16, h, [64]);
  h[threadIdx.x] = __float2bfloat16_rn(static_cast<float>(threadIdx.x));
  __syncthreads();
  out[threadIdx.x] = __bfloat162float(h[63 - threadIdx.x]);
}
__global__ void in_bounds(float* out, int n) {
  MAE_DYNAMIC_SHARED(16, float, dyn);
  MAE_SHARED(float, tile, [64]);
  dyn[threadIdx.x] = tile[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  if (static_cast<int>(threadIdx.x) < n) out[threadIdx.x] = dyn[63 - threadIdx.x] + tile[threadIdx.x];
}

// ---- harness ----
float* fresh(int n) {
  float* d = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&d), n * sizeof(float));
  cudaMemset(d, 0, n * sizeof(float));
  return d;
}

// Launches k on 1 block of `threads` over a fresh allocation of `n` floats; the fault's text or "".
std::string run(void (*k)(float*, int), unsigned threads, size_t smem, int n, const char* schedule = "forward",
                bool flat = false) {
  float* d = fresh(n);
  ::mae_emu::set_schedule_name(schedule);
  const cudaError_t e = ::mae_emu::launch("k", flat, k, dim3(1), dim3(threads), smem, nullptr, d, n);
  ::mae_emu::set_schedule_name("forward");
  cudaGetLastError();
  cudaFree(d);
  return e == cudaSuccess ? std::string() : std::string(::mae_emu::device_fault_detail());
}

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

void expect_fault(const char* what, const std::string& fault, std::initializer_list<const char*> needles) {
  bool ok = !fault.empty();
  for (const char* n : needles) ok = ok && has(fault, n);
  check(ok, std::string(what) + ": " + (fault.empty() ? "(no fault)" : fault));
}

void expect_clean(const char* what, void (*k)(float*, int), unsigned threads, size_t smem, int n) {
  std::string faults;
  for (const char* s : kSchedules) {
    const std::string f = run(k, threads, smem, n, s);
    if (!f.empty()) faults += std::string(" [") + s + "] " + f;
  }
  check(faults.empty(), std::string(what) + " passes every check under every schedule" + faults);
}

void check_memcheck() {
  expect_fault("a write 4 bytes past an allocation", run(write_past_end, 33, 0, 32),
               {"memcheck: write of 4 bytes", "0 bytes past the end of allocation #", "thread (32,0,0)"});
  expect_fault("a read before an allocation", run(read_before_start, 8, 0, 32),
               {"memcheck: read of 4 bytes", "4 bytes before the start of allocation #", "thread (0,0,0)"});
  expect_fault("a write past an allocation in a barrier-free (flat) launch",
               run(write_past_end, 33, 0, 32, "reverse", true),
               {"memcheck: write of 4 bytes", "0 bytes past the end of allocation #", "thread (32,0,0)"});
  float* d = fresh(4);
  cudaFree(d);
  const cudaError_t e = ::mae_emu::launch("stale", false, read_one, dim3(1), dim3(1), 0, nullptr, d, 4);
  cudaGetLastError();
  expect_fault("a read of freed memory", e == cudaSuccess ? "" : ::mae_emu::device_fault_detail(),
               {"memcheck: read of 4 bytes", "no live allocation holds"});
  expect_fault("a __shared__ array written one past its end", run(static_overflow, 33, 0, 32),
               {"memcheck: write of 4 bytes of shared memory out of bounds", "outside every __shared__ variable",
                "tile at 0+128", "thread (32,0,0)"});
  expect_fault("dynamic shared memory written one past its end", run(dynamic_overflow, 64, 64 * 4, 32),
               {"memcheck", "4 bytes past the end of the 256 bytes of dynamic shared memory", "thread (63,0,0)"});
}

void check_initcheck() {
  expect_fault("a read of shared memory no thread wrote", run(uninitialised, 64, 0, 64),
               {"initcheck: read of __shared__ s, byte 128", "thread (32,0,0)"});
}

void check_racecheck() {
  ::mae_emu::set_checks(::mae_emu::kRacecheck);
  expect_fault("a read of a neighbour's write, no barrier (forward)", run(neighbour_racy<1>, 64, 0, 64),
               {"racecheck: __shared__ s", "thread (1,0,0) writes what thread (0,0,0) read"});
  expect_fault("a read of a neighbour's write, no barrier (reverse)", run(neighbour_racy<1>, 64, 0, 64, "reverse"),
               {"racecheck: __shared__ s", "thread (62,0,0) reads what thread (63,0,0) wrote"});
  expect_fault("the same, between warps (warp order)", run(neighbour_racy<32>, 64, 0, 64, "warp"),
               {"racecheck", "thread (32,0,0) writes what thread (0,0,0) read"});
  expect_fault("two threads writing one word", run(same_word, 64, 0, 64),
               {"racecheck: __shared__ s, byte 0", "thread (1,0,0) writes what thread (0,0,0) wrote"});
  expect_fault("a write after many threads read, no barrier", run(broadcast_then_write, 64, 0, 64, "reverse"),
               {"racecheck", "thread (0,0,0) writes what other threads read"});
  ::mae_emu::set_checks(::mae_emu::kAllChecks);
}

void check_switch() {
  ::mae_emu::set_checks(0);
  check(run(write_past_end, 33, 0, 32).empty() && run(uninitialised, 64, 0, 64).empty(),
        "set_checks(0) (MAE_EMU_CHECK=none) turns the checks off");
  ::mae_emu::set_checks(::mae_emu::kMemcheck);
  check(run(uninitialised, 64, 0, 64).empty() && !run(write_past_end, 33, 0, 32).empty(),
        "memcheck alone reports the overflow, not the uninitialised read");
  ::mae_emu::set_checks(::mae_emu::kAllChecks);
}

}  // namespace

int main() {
  check(::mae_emu::checks() == ::mae_emu::kAllChecks, "every check is on by default");
  check_memcheck();
  check_initcheck();
  check_racecheck();
  expect_clean("lanes swapping through shared memory after __syncwarp", warp_exchange, 64, 0, 64);
  expect_clean("a broadcast read, then a write after __syncthreads", broadcast_synced, 64, 0, 64);
  expect_clean("neighbours writing the two halves of one word", bf16_halves, 64, 0, 64);
  expect_clean("static and dynamic shared memory in bounds, a partial last warp", in_bounds, 64, 64 * 4, 50);
  check_switch();
  return finish("device_check_test");
}
