// device_async_test.cpp: the emulator's sm_80 data movement (emu/src/device_async.cpp) through the
// device helpers the GEMM uses (src/device/async_copy.cuh): ldmatrix .x4 and .x4.trans give each
// lane the elements of PTX's fragment table for ldmatrix (written out here on its own), and fragments
// so loaded feed mma.m16n8k16 to the float product; cp.async lands its bytes (and zeros past the
// source size) at cp.async.wait_group, not before: wait_group 1 leaves the newest group in flight,
// a read of it then is an initcheck fault, a refill of a chunk another thread read with no barrier
// between a race (found where the copy lands, or at its issue when the wait comes after a barrier), and a
// thread that ends with copies it never waited for fails the launch; the performance counters see a
// cp.async as one global load and one shared store, and ldmatrix's phases with and without bank
// conflicts. Every correct kernel is run under every schedule. One line per check; exit 1 on any
// failure.
#include <cuda_runtime.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "mae_device.cuh"
#include "async_copy.cuh"

#include "emu_test.h"

namespace {
using namespace emu_test;

// ---- kernels ----
// One warp: s = a 16 x 16 bf16 matrix (row-major, from `in`); lane l names row l % 8 of matrix l / 8,
// matrices ordered (rows 0-7, cols 0-7), (rows 8-15, cols 0-7), (rows 0-7, cols 8-15), (8-15, 8-15).
template <bool Trans>
__global__ void ldmatrix_tile(uint32_t* out, const __nv_bfloat16* in) {
  MAE_SHARED_ALIGNED(16, __nv_bfloat16, s, [16 * 16]);
  for (int i = threadIdx.x; i < 256; i += 32) s[i] = in[i];
  __syncthreads();
  const int l = threadIdx.x, mat = l >> 3;
  uint32_t r[4];
  mae_ldmatrix_x4<Trans>(r, &s[(8 * (mat & 1) + (l & 7)) * 16 + 8 * (mat >> 1)]);
  for (int i = 0; i < 4; ++i) out[l * 4 + i] = r[i];
}

// One warp: D (16 x 8) = A (16 x 16, row-major) B (16 x 8, stored k-major [k][n]) through ldmatrix
// (A as is, B transposed: its fragment's k pairs run down the stored rows) and the MMA.
__global__ void ldmatrix_mma(float* d, const __nv_bfloat16* a, const __nv_bfloat16* b) {
  MAE_SHARED_ALIGNED(16, __nv_bfloat16, sa, [16 * 16]);
  MAE_SHARED_ALIGNED(16, __nv_bfloat16, sb, [16 * 8]);
  for (int i = threadIdx.x; i < 256; i += 32) sa[i] = a[i];
  for (int i = threadIdx.x; i < 128; i += 32) sb[i] = b[i];
  __syncthreads();
  const int l = threadIdx.x, mat = l >> 3, g = l >> 2, t = l & 3;
  uint32_t af[4], bf[4];
  mae_ldmatrix_x4<false>(af, &sa[(8 * (mat & 1) + (l & 7)) * 16 + 8 * (mat >> 1)]);
  // matrices (k 0-7), (k 8-15) of the 8 columns; lanes 16-31 repeat them (registers 2, 3 unused)
  mae_ldmatrix_x4<true>(bf, &sb[(8 * (mat & 1) + (l & 7)) * 8]);
  float c[4] = {0.f, 0.f, 0.f, 0.f};
  ::mae_emu::mma_bf16_16816(c, af, bf);
  for (int i = 0; i < 4; ++i) d[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = c[i];
}

// 32 threads copy 128 floats in 16-byte chunks; lanes >= valid copy zeros (source size 0).
__global__ void copy_chunks(float* out, const float* in, int valid) {
  MAE_SHARED_ALIGNED(16, float, s, [128]);
  const int l = threadIdx.x;
  mae_cp_async16(&s[4 * l], in + (l < valid ? 4 * l : 0), l < valid ? 16 : 0);
  mae_cp_async_commit();
  mae_cp_async_wait<0>();
  __syncthreads();
  for (int i = 0; i < 4; ++i) out[4 * l + i] = s[(4 * l + 4 * 32 / 2 + i) % 128];  // another thread's chunk
}

// Two groups per thread; wait_group 1 lands the first only. Defect (ReadEarly): read the second then.
template <bool ReadEarly>
__global__ void two_groups(float* out, const float* in, int) {
  MAE_SHARED_ALIGNED(16, float, s, [2][128]);
  const int l = threadIdx.x;
  mae_cp_async16(&s[0][4 * l], in + 4 * l, 16);
  mae_cp_async_commit();
  mae_cp_async16(&s[1][4 * l], in + 128 + 4 * l, 16);
  mae_cp_async_commit();
  mae_cp_async_wait<1>();
  out[l] = s[ReadEarly ? 1 : 0][4 * l];
  mae_cp_async_wait<0>();
  out[32 + l] = s[1][4 * l + 3];
}

// Defect: a neighbour's chunk read after a barrier, then this thread's chunk refilled by a second
// copy with no barrier after the neighbour's read: a race where the copy lands at the wait, or, with
// WaitAfterBarrier, at its issue (it may land at once, though it is waited for after a barrier).
template <bool WaitAfterBarrier>
__global__ void refill(float* out, const float* in, int) {
  MAE_SHARED_ALIGNED(16, float, s, [128]);
  const int l = threadIdx.x;
  mae_cp_async16(&s[4 * l], in + 4 * l, 16);
  mae_cp_async_commit();
  mae_cp_async_wait<0>();
  __syncthreads();
  out[l] = s[(4 * l + 4) % 128];
  mae_cp_async16(&s[4 * l], in + 128 + 4 * l, 16);
  mae_cp_async_commit();
  if (WaitAfterBarrier) __syncthreads();
  mae_cp_async_wait<0>();
}

// Defect: the copies are committed but never waited for.
__global__ void never_waited(float* out, const float* in, int) {
  MAE_SHARED_ALIGNED(16, float, s, [128]);
  mae_cp_async16(&s[4 * threadIdx.x], in + 4 * threadIdx.x, 16);
  mae_cp_async_commit();
  out[threadIdx.x] = 0.f;
}

// ldmatrix of rows 2 StrideHalves bytes apart (a phase reads 8 of them): 16 bytes, no conflict; 64
// bytes (unswizzled [rows][32] bf16 tiles), rows r, r + 2, r + 4, r + 6 on the same banks: 4-way;
// 128 bytes, all eight: 8-way (counts only).
template <int StrideHalves>
__global__ void ldmatrix_stride(uint32_t* out) {
  MAE_SHARED_ALIGNED(128, __nv_bfloat16, s, [32 * StrideHalves]);
  for (int i = threadIdx.x; i < 32 * StrideHalves; i += 32) s[i] = __float2bfloat16_rn(1.f);
  __syncthreads();
  uint32_t r[4];
  mae_ldmatrix_x4<false>(r, &s[threadIdx.x * StrideHalves]);
  out[threadIdx.x] = r[0] ^ r[1] ^ r[2] ^ r[3];
}

// ---- harness ----
uint16_t bits(__nv_bfloat16 v) { return __bfloat16_as_ushort(v); }
std::vector<__nv_bfloat16> iota_bf16(int n, float scale) {
  std::vector<__nv_bfloat16> v(n);
  for (int i = 0; i < n; ++i) v[i] = __float2bfloat16_rn(scale * static_cast<float>((i * 37) % 101 - 50));
  return v;
}

// A launch under one schedule: "" or the fault's words.
template <typename... P, typename... A>
std::string run(const char* schedule, void (*k)(P...), unsigned threads, A... args) {
  ::mae_emu::set_schedule_name(schedule);
  const cudaError_t e = ::mae_emu::launch("k", false, k, dim3(1), dim3(threads), 0, nullptr, args...);
  ::mae_emu::set_schedule_name("forward");
  cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(::mae_emu::device_fault_detail());
}

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

template <bool Trans>
void check_ldmatrix(const char* name) {
  const std::vector<__nv_bfloat16> s = iota_bf16(256, 1.f);
  __nv_bfloat16* in = device_copy(s);
  uint32_t* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 128 * sizeof(uint32_t));
  bool all = true;
  std::string faults;
  for (const char* sch : kSchedules) {
    const std::string f = run(sch, ldmatrix_tile<Trans>, 32, out, static_cast<const __nv_bfloat16*>(in));
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    const std::vector<uint32_t> r = host_copy(out, 128);
    // PTX ISA, ldmatrix fragments: lane l holds row l / 4, columns 2 (l % 4) + {0, 1} of each matrix;
    // with .trans, rows 2 (l % 4) + {0, 1} of column l / 4
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i)
        for (int e = 0; e < 2; ++e) {
          const int row = 8 * (i & 1) + (Trans ? 2 * (l % 4) + e : l / 4);
          const int col = 8 * (i >> 1) + (Trans ? l / 4 : 2 * (l % 4) + e);
          all = all && ((r[l * 4 + i] >> (16 * e)) & 0xffffu) == bits(s[row * 16 + col]);
        }
  }
  check(all && faults.empty(), std::string(name) + " gives every lane PTX's fragment elements under every schedule" + faults);
  cudaFree(in);
  cudaFree(out);
}

void check_ldmatrix_mma() {
  const std::vector<__nv_bfloat16> a = iota_bf16(256, 0.03125f), b = iota_bf16(128, 0.0625f);
  __nv_bfloat16 *da = device_copy(a), *db = device_copy(b);
  float* dd = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&dd), 128 * sizeof(float));
  const std::string f = run("warp-reverse", ldmatrix_mma, 32, dd, static_cast<const __nv_bfloat16*>(da),
                            static_cast<const __nv_bfloat16*>(db));
  const std::vector<float> d = host_copy(dd, 128);
  double worst = 0;
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      double ref = 0;
      for (int k = 0; k < 16; ++k) ref += double(__bfloat162float(a[m * 16 + k])) * __bfloat162float(b[k * 8 + n]);
      worst = std::fmax(worst, std::fabs(ref - d[m * 8 + n]));
    }
  check(f.empty() && worst < 1e-4,
        "ldmatrix (A) and ldmatrix.trans (B stored [k][n]) feed mma.m16n8k16 to the float product (max error " +
            std::to_string(worst) + ") " + f);
  cudaFree(da);
  cudaFree(db);
  cudaFree(dd);
}

void check_cp_async() {
  std::vector<float> h(256);
  for (int i = 0; i < 256; ++i) h[i] = static_cast<float>(i + 1);
  float* in = device_copy(h);
  float* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 128 * sizeof(float));
  bool all = true;
  std::string faults;
  for (const char* sch : kSchedules) {
    const std::string f = run(sch, copy_chunks, 32, out, static_cast<const float*>(in), 24);
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    const std::vector<float> r = host_copy(out, 128);
    for (int j = 0; j < 128; ++j) {
      const int src = (j + 64) % 128;  // the shared float thread j / 4 read
      all = all && r[j] == (src < 4 * 24 ? h[src] : 0.f);
    }
  }
  check(all && faults.empty(), "cp.async: 16-byte chunks land at wait_group, zeros past the source size, under every schedule" + faults);
  std::string clean;
  for (const char* sch : kSchedules) {
    const std::string f = run(sch, two_groups<false>, 32, out, static_cast<const float*>(in), 0);
    if (!f.empty()) clean += std::string(" [") + sch + "] " + f;
  }
  const std::vector<float> r = host_copy(out, 64);
  check(clean.empty() && r[5] == h[20] && r[32 + 5] == h[128 + 23],
        "wait_group 1 lands the older of two groups, wait_group 0 the newer" + clean);
  std::string f = run("forward", two_groups<true>, 32, out, static_cast<const float*>(in), 0);
  check(has(f, "initcheck: read of __shared__ s") && has(f, "which no thread of this block has written"),
        "a read of the group still in flight after wait_group 1 is an initcheck fault: " + f);
  f = run("forward", refill<false>, 32, out, static_cast<const float*>(in), 0);
  const std::string g = run("reverse", refill<false>, 32, out, static_cast<const float*>(in), 0);
  check(has(f, "racecheck: __shared__ s") && has(f, "thread (1,0,0) writes what thread (0,0,0) read") &&
            has(g, "racecheck: __shared__ s") && has(g, "thread (30,0,0) reads what thread (31,0,0) wrote"),
        "a chunk refilled by cp.async with no barrier after a neighbour read it is a race (forward: " + f +
            "; reverse: " + g + ")");
  f = run("forward", refill<true>, 32, out, static_cast<const float*>(in), 0);
  check(has(f, "racecheck: __shared__ s") && has(f, "thread (1,0,0) writes what thread (0,0,0) read"),
        "a copy issued over a chunk another thread read, waited for only after a barrier, is a race at its issue: " + f);
  f = run("forward", never_waited, 32, out, static_cast<const float*>(in), 0);
  check(has(f, "ended with 1 cp.async copies it never waited for"), "copies never waited for fail the launch: " + f);
  cudaFree(in);
  cudaFree(out);
}

// ---- counters ----
void check_counts() {
  const std::string file = "mae_emu_async_test." + std::to_string(getpid()) + ".jsonl";
  ::mae_emu::set_count_file(file.c_str());
  std::vector<float> h(256, 1.f);
  float* in = device_copy(h);
  float* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 128 * sizeof(float));
  ::mae_emu::launch("copy_chunks", false, copy_chunks, dim3(1), dim3(32), 0, nullptr, out, static_cast<const float*>(in), 32);
  std::string l = count_line(file, "copy_chunks");
  check(count_field(l, "global_load", "requests") == 1 && count_field(l, "global_load", "sectors") == 16 &&
            count_field(l, "global_load", "ideal") == 16,
        "a warp's 16-byte cp.async of 512 contiguous bytes: 1 load request of 16 sectors, the ideal: " + l);
  check(count_field(l, "shared_store", "requests") == 1 && count_field(l, "shared_store", "wavefronts") == 4 &&
            count_field(l, "shared_store", "ideal") == 4,
        "and 1 shared store request: 4 conflict-free phases of 8 lanes: " + l);
  uint32_t* o = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&o), 32 * sizeof(uint32_t));
  const struct {
    void (*k)(uint32_t*);
    const char* name;
    long long wavefronts;
    const char* what;
  } cases[] = {{ldmatrix_stride<8>, "ld16", 4, "rows 16 bytes apart: 4 phases, no conflict"},
               {ldmatrix_stride<32>, "ld64", 16, "rows 64 bytes apart: a 4-way conflict in every phase"},
               {ldmatrix_stride<64>, "ld128", 32, "rows 128 bytes apart: an 8-way conflict in every phase"}};
  for (const auto& c : cases) {
    ::mae_emu::launch(c.name, false, c.k, dim3(1), dim3(32), 0, nullptr, o);
    l = count_line(file, c.name);
    check(count_field(l, "shared_load", "requests") == 1 && count_field(l, "shared_load", "wavefronts") == c.wavefronts &&
              count_field(l, "shared_load", "ideal") == 4,
          std::string("ldmatrix.x4 of ") + c.what + ": " + l);
  }
  ::mae_emu::set_count_file(nullptr);
  std::remove(file.c_str());
  cudaFree(in);
  cudaFree(out);
  cudaFree(o);
}
}  // namespace

int main() {
  check_ldmatrix<false>("ldmatrix .x4");
  check_ldmatrix<true>("ldmatrix .x4.trans");
  check_ldmatrix_mma();
  check_cp_async();
  check_counts();
  return finish("device_async_test");
}
