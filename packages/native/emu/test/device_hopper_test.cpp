// device_hopper_test.cpp: the emulator's sm_90a model (emu/src/device_hopper.cpp, device_wgmma.cpp)
// through the device helpers the wgmma GEMM uses (src/device/hopper.cuh, gemm_wgmma.cuh):
//   - TMA boxes land where the swizzle formulas put them, written out here on their own: element e
//     of box row r at byte r R + 16 ((e / 8) ^ f(r)) + 2 (e % 8), f(r) = r % 8 for the 128-byte
//     swizzle (rows of 128 bytes), (r / 2) % 4 for the 64-byte one, 0 unswizzled; out-of-range
//     elements read as zeros; a destination read before its copy landed is an initcheck fault
//     (the reverse schedules land copies only when a thread waits on the barrier);
//   - mbarriers: a fresh barrier passes a wait on parity 1, phases complete after their arrivals,
//     a wait nothing can complete is a deadlock fault, an arrival on a full phase a fault;
//   - wgmma m64n256k16: the product of operands laid out as PTX's core matrices (8 rows of 16
//     bytes, placed by LBO and SBO, written here by the threads) and of the same operands loaded by
//     TMA with the 128-byte swizzle in every transpose (K-major and MN-major A and B, the GEMM's
//     descriptors), each against a double-precision product, with the accumulators read back
//     through PTX's fragment layout; a thread that never waits for its wgmma fails the launch;
//   - the performance counters: a TMA box is an asynchronous load, each warp's wait on the phase
//     that carried it a wait for loads, and waits on phases without transactions none.
// Every correct kernel runs under every schedule. One line per check; exit 1 on any failure.
#include <cuda_runtime.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "mae_device.cuh"
#include "gemm_wgmma.cuh"

#include "emu_test.h"

namespace {
using namespace emu_test;

// ---- kernels ----
// Thread 0 loads one box (rows x row_bytes) into s; every thread copies s out.
__global__ void tma_box(uint16_t* out, const MaeTmaMap map, int c0, int c1, int c2, int bytes) {
  MAE_SHARED_ALIGNED(1024, uint16_t, s, [4096]);
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) {
    mae_mbar_init(bar, 1);
    mae_mbar_arrive_expect_tx(bar, static_cast<unsigned>(bytes));
    mae_tma_load_3d(s, &map, c0, c1, c2, bar);
  }
  __syncthreads();
  mae_mbar_wait(bar, 0);
  for (int i = threadIdx.x; i < bytes / 2; i += blockDim.x) out[i] = s[i];
}

// Defect: the box is read after a barrier but without waiting on the mbarrier.
__global__ void tma_read_early(uint16_t* out, const MaeTmaMap map, int, int, int, int bytes) {
  MAE_SHARED_ALIGNED(1024, uint16_t, s, [4096]);
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) {
    mae_mbar_init(bar, 1);
    mae_mbar_arrive_expect_tx(bar, static_cast<unsigned>(bytes));
    mae_tma_load_3d(s, &map, 0, 0, 0, bar);
  }
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
  mae_mbar_wait(bar, 0);
}

// Every thread arrives on a barrier of blockDim.x arrivals and waits, twice; out counts the rounds.
__global__ void two_phases(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) mae_mbar_init(bar, blockDim.x);
  __syncthreads();
  mae_mbar_wait(bar, 1);  // a fresh barrier: the phase "before" phase 0 has completed
  for (unsigned p = 0; p < 2; ++p) {
    mae_mbar_arrive(bar);
    mae_mbar_wait(bar, p);
  }
  out[threadIdx.x] = 2;
}

// Defect: a wait on phase 0 of a barrier that expects two arrivals and gets one.
__global__ void starved(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) mae_mbar_init(bar, 2);
  __syncthreads();
  if (threadIdx.x == 0) mae_mbar_arrive(bar);
  mae_mbar_wait(bar, 0);
  out[threadIdx.x] = 1;
}

// Defect: a second arrival on a phase of one arrival that still waits for transaction bytes.
__global__ void over_arrive(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  mae_mbar_init(bar, 1);
  mae_mbar_arrive_expect_tx(bar, 16);
  mae_mbar_arrive(bar);
  out[0] = 1;
}

// The accumulators of one warpgroup's m64n256 tile into d[64][256], by PTX's fragment layout.
__device__ void store_acc(float* d, const float (&acc)[128]) {
  const int t = threadIdx.x, w = t >> 5, g = (t & 31) >> 2, q = t & 3;
  for (int i = 0; i < 128; ++i) d[(16 * w + g + 8 * ((i & 3) >> 1)) * 256 + 8 * (i >> 2) + 2 * q + (i & 1)] = acc[i];
}

// One warpgroup: A (64 x 16) and B (256 x 16, K-major) written by the threads as core matrices of 8
// rows x 16 bytes: core (i, j) of rows 8i.., k 8j.. at i SBO + j LBO (LBO 128, SBO 256).
__global__ void wgmma_interleaved(float* d, const __nv_bfloat16* a, const __nv_bfloat16* b) {
  MAE_SHARED_ALIGNED(1024, __nv_bfloat16, sa, [64 * 16]);
  MAE_SHARED_ALIGNED(1024, __nv_bfloat16, sb, [256 * 16]);
  const auto at = [](int r, int k) { return (r / 8) * 128 + (k / 8) * 64 + (r % 8) * 8 + k % 8; };
  for (int i = threadIdx.x; i < 64 * 16; i += 128) sa[at(i / 16, i % 16)] = a[i];
  for (int i = threadIdx.x; i < 256 * 16; i += 128) sb[at(i / 16, i % 16)] = b[i];
  __syncthreads();
  float acc[128];
  for (float& x : acc) x = 1.f;  // scale_d = 0 ignores them
  mae_wgmma_fence();
  mae_wgmma_m64n256k16<false, false>(acc, mae_wgmma_desc(sa, 128, 256, 0), mae_wgmma_desc(sb, 128, 256, 0), false);
  mae_wgmma_commit();
  mae_wgmma_wait<0>(acc);
  store_acc(d, acc);
}

// One warpgroup: A (64 x 64) and B (256 x 64) loaded by TMA as the GEMM loads a stage (K-major:
// one box of 64 k x rows; MN-major: boxes of 64 rows x 64 k), the product over 4 k steps.
template <bool ARow, bool BRow>
__global__ void wgmma_tma(float* d, const MaeTmaMap ta, const MaeTmaMap tb) {
  MAE_SHARED_ALIGNED(1024, unsigned char, sa, [64 * 64 * 2]);
  MAE_SHARED_ALIGNED(1024, unsigned char, sb, [256 * 64 * 2]);
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) {
    mae_mbar_init(bar, 1);
    mae_mbar_arrive_expect_tx(bar, 64 * 64 * 2 + 256 * 64 * 2);
    mae_tma_load_3d(sa, &ta, 0, 0, 0, bar);
    if (BRow) {
      for (int h = 0; h < 4; ++h) mae_tma_load_3d(sb + h * 8192, &tb, 64 * h, 0, 0, bar);
    } else {
      mae_tma_load_3d(sb, &tb, 0, 0, 0, bar);
    }
  }
  __syncthreads();
  mae_mbar_wait(bar, 0);
  float acc[128];
  for (float& x : acc) x = 0.f;
  mae_wgmma_fence();
  for (int ks = 0; ks < 4; ++ks) mae_wgmma_m64n256k16<ARow, BRow>(acc, mae_wg_desc<ARow>(sa, ks), mae_wg_desc<BRow>(sb, ks), true);
  mae_wgmma_commit();
  mae_wgmma_wait<0>(acc);
  store_acc(d, acc);
}

// Defect: the wgmma is committed and never waited for.
__global__ void wgmma_unwaited(float* d, const __nv_bfloat16* a, const __nv_bfloat16*) {
  MAE_SHARED_ALIGNED(1024, __nv_bfloat16, s, [256 * 16]);
  for (int i = threadIdx.x; i < 256 * 16; i += 128) s[i] = a[i % 1024];
  __syncthreads();
  float acc[128] = {};
  mae_wgmma_m64n256k16<false, false>(acc, mae_wgmma_desc(s, 128, 256, 0), mae_wgmma_desc(s, 128, 256, 0), false);
  mae_wgmma_commit();
  d[threadIdx.x] = 0.f;
}

// ---- harness ----
template <typename... P, typename... A>
std::string run(const char* schedule, void (*k)(P...), unsigned threads, A... args) {
  ::mae_emu::set_schedule_name(schedule);
  const cudaError_t e = ::mae_emu::launch("k", false, k, dim3(1), dim3(threads), 0, nullptr, args...);
  ::mae_emu::set_schedule_name("forward");
  cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(::mae_emu::device_fault_detail());
}
bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

MaeTmaMap map3(const void* base, uint64_t d0, uint64_t d1, uint64_t d2, uint32_t b0, uint32_t b1, unsigned swz) {
  MaeTmaMap m{};
  mae_emu::TmaSpec s{};
  s.base = base, s.rank = 3, s.elem_bytes = 2, s.swizzle_bytes = static_cast<uint16_t>(swz);
  s.dims[0] = d0, s.dims[1] = d1, s.dims[2] = d2;
  s.strides[1] = d0 * 2, s.strides[2] = d0 * d1 * 2;
  s.box[0] = b0, s.box[1] = b1, s.box[2] = 1;
  const char* why = mae_emu::tma_encode(&m, s);
  if (*why) std::printf("tma_encode: %s\n", why);
  return m;
}

std::vector<__nv_bfloat16> values(int n, int seed) {
  std::vector<__nv_bfloat16> v(n);
  for (int i = 0; i < n; ++i) v[i] = __float2bfloat16_rn(static_cast<float>((i * 37 + seed * 11) % 29 - 14) / 8.f);
  return v;
}

// A box of `rows` rows of `b0` elements at (c0, c1, 1) of a [3][7][d0] tensor with values 1 + index.
void check_box(const char* name, unsigned swz, uint32_t b0, uint32_t rows, int c0, int c1) {
  const uint64_t d0 = 64, d1 = 7, d2 = 3;
  std::vector<uint16_t> h(d0 * d1 * d2);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i + 1);
  uint16_t* g = device_copy(h);
  uint16_t* out = nullptr;
  const int bytes = static_cast<int>(b0 * rows * 2);
  cudaMalloc(reinterpret_cast<void**>(&out), bytes);
  const MaeTmaMap m = map3(g, d0, d1, d2, b0, rows, swz);
  bool all = true;
  std::string faults;
  const uint32_t R = b0 * 2;
  for (const char* sch : kSchedules) {
    const std::string f = run(sch, tma_box, 64, out, m, c0, c1, 1, bytes);
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    const std::vector<uint16_t> s = host_copy(out, static_cast<size_t>(bytes / 2));
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t e = 0; e < b0; ++e) {
        const uint32_t fr = swz == 128 ? r % 8 : swz == 64 ? (r / 2) % 4 : swz == 32 ? (r / 4) % 2 : 0;
        const uint32_t byte = r * R + 16 * ((e / 8) ^ fr) + 2 * (e % 8);
        const long x = c0 + long(e), y = c1 + long(r);
        const uint16_t want = x >= 0 && x < long(d0) && y >= 0 && y < long(d1) ? h[(1 * d1 + y) * d0 + x] : 0;
        all = all && s[byte / 2] == want;
      }
  }
  check(all && faults.empty(), std::string(name) + faults);
  cudaFree(g);
  cudaFree(out);
}

void check_tma() {
  check_box("TMA, 128-byte swizzle: each row's 16-byte chunks XOR the row % 8", 128, 64, 5, 0, 1);
  check_box("TMA, 128-byte swizzle: rows past the tensor's end read as zeros", 128, 64, 6, 0, 4);
  check_box("TMA, 128-byte swizzle: columns before the start (negative coordinate) read as zeros", 128, 64, 3, -8, 0);
  check_box("TMA, 64-byte swizzle: chunks XOR (row / 2) % 4", 64, 32, 8, 32, 0);
  check_box("TMA, no swizzle: rows packed", 0, 8, 4, 16, 2);
  std::vector<uint16_t> h(64 * 64, 7);
  uint16_t* g = device_copy(h);
  uint16_t* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 64 * 2);
  const MaeTmaMap m = map3(g, 64, 64, 1, 64, 8, 128);
  const std::string late = run("reverse", tma_read_early, 64, out, m, 0, 0, 0, 64 * 8 * 2);
  check(has(late, "initcheck"), "TMA: a destination read before the mbarrier wait is an initcheck fault where copies land late: " + late);
  MaeTmaMap bad{};
  mae_emu::TmaSpec s{};
  s.base = reinterpret_cast<const char*>(g) + 2, s.rank = 2, s.elem_bytes = 2, s.dims[0] = 64, s.dims[1] = 64;
  s.strides[1] = 128, s.box[0] = 64, s.box[1] = 8, s.swizzle_bytes = 128;
  check(has(mae_emu::tma_encode(&bad, s), "16-byte aligned"), "TMA: a map of a misaligned tensor is refused, as the driver does");
  cudaFree(g);
  cudaFree(out);
}

void check_mbarriers() {
  int* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 256 * sizeof(int));
  std::string faults;
  for (const char* sch : kSchedules) {
    const std::string f = run(sch, two_phases, 96, out);
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
  }
  check(faults.empty(), "mbarrier: a fresh barrier passes parity 1; two phases of 96 arrivals complete in turn" + faults);
  const std::string dead = run("forward", starved, 64, out);
  check(has(dead, "deadlock") && has(dead, "1 of 2 arrivals"), "mbarrier: a wait no arrival can complete is a deadlock fault: " + dead);
  const std::string over = run("forward", over_arrive, 32, out);
  check(has(over, "every arrival of the current phase is in"), "mbarrier: an arrival on a full phase is a fault: " + over);
  cudaFree(out);
}

double worst_error(const std::vector<float>& d, const std::vector<__nv_bfloat16>& a, const std::vector<__nv_bfloat16>& b,
                   int K) {
  double worst = 0;
  for (int m = 0; m < 64; ++m)
    for (int n = 0; n < 256; ++n) {
      double ref = 0;
      for (int k = 0; k < K; ++k) ref += double(__bfloat162float(a[m * K + k])) * __bfloat162float(b[n * K + k]);
      worst = std::fmax(worst, std::fabs(ref - d[m * 256 + n]));
    }
  return worst;
}

// The same product with each operand stored [rows][k] (K-major) or [k][rows] (MN-major).
template <bool ARow, bool BRow>
void check_wgmma_tma(const char* name) {
  const int K = 64;
  const std::vector<__nv_bfloat16> a = values(64 * K, 1), b = values(256 * K, 2);
  std::vector<__nv_bfloat16> ga(a.size()), gb(b.size());
  for (int r = 0; r < 64; ++r)
    for (int k = 0; k < K; ++k) ga[ARow ? k * 64 + r : r * K + k] = a[r * K + k];
  for (int r = 0; r < 256; ++r)
    for (int k = 0; k < K; ++k) gb[BRow ? k * 256 + r : r * K + k] = b[r * K + k];
  __nv_bfloat16 *da = device_copy(ga), *db = device_copy(gb);
  const MaeTmaMap ta = ARow ? map3(da, 64, K, 1, 64, 64, 128) : map3(da, K, 64, 1, 64, 64, 128);
  const MaeTmaMap tb = BRow ? map3(db, 256, K, 1, 64, 64, 128) : map3(db, K, 256, 1, 64, 256, 128);
  float* dd = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&dd), 64 * 256 * sizeof(float));
  double worst = 0;
  std::string faults;
  for (const char* sch : kSchedules) {
    cudaMemset(dd, 0, 64 * 256 * sizeof(float));
    const std::string f = run(sch, wgmma_tma<ARow, BRow>, 128, dd, ta, tb);
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    worst = std::fmax(worst, worst_error(host_copy(dd, 64 * 256), a, b, K));
  }
  check(faults.empty() && worst < 1e-3, std::string(name) + " (max error " + std::to_string(worst) + ")" + faults);
  cudaFree(da);
  cudaFree(db);
  cudaFree(dd);
}

void check_wgmma() {
  const std::vector<__nv_bfloat16> a = values(64 * 16, 3), b = values(256 * 16, 4);
  __nv_bfloat16 *da = device_copy(a), *db = device_copy(b);
  float* dd = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&dd), 64 * 256 * sizeof(float));
  double worst = 0;
  std::string faults;
  for (const char* sch : kSchedules) {
    const std::string f = run(sch, wgmma_interleaved, 128, dd, static_cast<const __nv_bfloat16*>(da),
                              static_cast<const __nv_bfloat16*>(db));
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    worst = std::fmax(worst, worst_error(host_copy(dd, 64 * 256), a, b, 16));
  }
  check(faults.empty() && worst < 1e-4,
        "wgmma m64n256k16 of core matrices placed by LBO and SBO (no swizzle), scale-d 0 (max error " +
            std::to_string(worst) + ")" + faults);
  check_wgmma_tma<false, false>("wgmma over 4 k steps of TMA tiles, 128-byte swizzle: A and B K-major");
  check_wgmma_tma<true, false>("wgmma, TMA tiles: A MN-major (transposed), B K-major");
  check_wgmma_tma<false, true>("wgmma, TMA tiles: A K-major, B MN-major (transposed)");
  check_wgmma_tma<true, true>("wgmma, TMA tiles: both MN-major");
  const std::string f = run("forward", wgmma_unwaited, 128, dd, static_cast<const __nv_bfloat16*>(da),
                            static_cast<const __nv_bfloat16*>(db));
  check(has(f, "never waited for (wgmma.wait_group)"), "wgmma: a thread that never waits for its wgmma fails the launch: " + f);
  cudaFree(da);
  cudaFree(db);
  cudaFree(dd);
}
}  // namespace

void check_counts() {
  const std::string file = "mae_emu_hopper_test." + std::to_string(getpid()) + ".jsonl";
  ::mae_emu::set_count_file(file.c_str());
  std::vector<uint16_t> h(64 * 64, 7);
  uint16_t* g = device_copy(h);
  uint16_t* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 64 * 8 * 2);
  const MaeTmaMap m = map3(g, 64, 64, 1, 64, 8, 128);
  MAE_LAUNCH(tma_box, 1, 64, 0, nullptr, out, m, 0, 0, 0, 64 * 8 * 2);
  int* o = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&o), 96 * sizeof(int));
  MAE_LAUNCH(two_phases, 1, 96, 0, nullptr, o);
  ::mae_emu::set_count_file(nullptr);
  const std::string t = count_line(file, "tma_box"), p = count_line(file, "two_phases");
  check(count_field(t, "global_load", "requests") == 1 && count_field(t, "", "async_loads") == 1 &&
            count_field(t, "", "async_waits") == 2,
        "counters: a TMA box is one asynchronous load, both warps' waits on its phase waits for loads: " + t);
  check(count_field(p, "", "async_waits") == 0, "counters: waits on phases without transactions wait for no load: " + p);
  std::remove(file.c_str());
  cudaFree(g);
  cudaFree(out);
  cudaFree(o);
}

int main() {
  check_tma();
  check_counts();
  check_mbarriers();
  check_wgmma();
  return finish("mae_emu_hopper_test");
}
