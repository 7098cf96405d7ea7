// device_cluster_test.cpp: the emulator's thread block clusters (emu/src/device_cluster.cpp, the
// cluster scheduling of device_grid.cpp) through the device helpers the wgmma GEMM uses
// (src/device/hopper.cuh):
//   - a cluster launch's blocks know their rank (x fastest) and the cluster's size, and blockIdx
//     covers the grid; barrier.cluster orders one CTA's writes before another's reads;
//   - an arrival on another CTA's mbarrier (mapa) completes its phase, both ways;
//   - a TMA box multicast to every CTA lands in each, each part loaded by one CTA, equal to the
//     tensor under every schedule;
//   - the lead schedule runs CTA 0 through its block barriers to its end before CTA 1 goes on, so
//     that CTA 1's late arrival on a CTA that did not wait at barrier.cluster is a fault (the
//     interleaved schedules run CTA 1's arrival before CTA 0's barrier is released);
//   - faults: an arrival on a CTA that has exited, a wait no CTA can complete (a deadlock), a multicast
//     mask outside the cluster; launches whose cluster does not divide the grid or has over 8 blocks
//     are refused.
// One line per check; exit 1 on any failure.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>
#include <vector>

#include "mae_device.cuh"
#include "hopper.cuh"

#include "emu_test.h"

namespace {
using namespace emu_test;

// ---- kernels ----
// out[block][thread] = rank + 16 nctarank + 256 (blockIdx.x + 8 blockIdx.y); then thread 0 of each CTA
// writes a word of shared memory that, after barrier.cluster, its neighbour's threads... read
// through global memory (one CTA's write before the other's read).
__global__ void ranks(int* out, int* flag) {
  const unsigned b = blockIdx.x + gridDim.x * blockIdx.y;
  out[b * blockDim.x + threadIdx.x] =
      static_cast<int>(mae_cluster_ctarank() + 16 * mae_cluster_nctarank() + 256 * (blockIdx.x + 8 * blockIdx.y));
  if (threadIdx.x == 0) flag[b] = static_cast<int>(b) + 1;
  mae_cluster_sync();
  const unsigned partner = b ^ 1u;  // clusters of 2 along x
  if (threadIdx.x == 1) out[b * blockDim.x] += 1000 * flag[partner];
}

// Thread 0 of each CTA arrives on the other CTA's barrier (one arrival) and everyone waits on its own.
__global__ void ping(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) mae_mbar_init(bar, 1);
  mae_cluster_sync();
  if (threadIdx.x == 0) mae_mbar_arrive_cluster(bar, mae_cluster_ctarank() ^ 1u);
  mae_mbar_wait(bar, 0);
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
  mae_cluster_sync();
}

// Rows [32 r, 32 r + 32) of a 64-row box (64 bf16 each, 128-byte swizzle) loaded by CTA r and
// multicast to both; every thread copies its CTA's tile out (unswizzled by the test).
__global__ void multicast(uint16_t* out, const __grid_constant__ MaeTmaMap map, uint16_t mask) {
  MAE_SHARED_ALIGNED(1024, uint16_t, s, [64 * 64]);
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  const unsigned r = mae_cluster_ctarank();
  if (threadIdx.x == 0) {
    mae_mbar_init(bar, 1);
    mae_mbar_fence_init();
  }
  mae_cluster_sync();
  if (threadIdx.x == 0) {
    mae_mbar_arrive_expect_tx(bar, 64 * 64 * 2);
    mae_tma_load_3d_multicast(s + r * 32 * 64, &map, 0, 32 * static_cast<int>(r), 0, bar, mask);
  }
  mae_mbar_wait(bar, 0);
  for (int i = threadIdx.x; i < 64 * 64; i += blockDim.x) out[blockIdx.x * 64 * 64 + i] = s[i];
  mae_cluster_sync();
}

// Defect: CTA 1 exits right after the first barrier.cluster; CTA 0 arrives on its barrier later.
__global__ void arrive_after_exit(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) mae_mbar_init(bar, 4);
  mae_cluster_sync();
  if (mae_cluster_ctarank() == 1) return;
  __syncthreads();
  __syncthreads();
  if (threadIdx.x == 0) mae_mbar_arrive_cluster(bar, 1);
  out[threadIdx.x] = 1;
}

// Defect (the wgmma GEMM without its final barrier.cluster): CTA 1 arrives on CTA 0's barrier, which
// nobody waits on, while CTA 0 passes a block barrier and exits.
__global__ void exit_unsynced(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) {
    mae_mbar_init(bar, 1);
    mae_mbar_fence_init();
  }
  mae_cluster_sync();
  if (mae_cluster_ctarank() == 1 && threadIdx.x == 0) mae_mbar_arrive_cluster(bar, 0);
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

// Defect: CTA 0 waits for an arrival CTA 1 never makes.
__global__ void starved(int* out) {
  MAE_SHARED_ALIGNED(8, uint64_t, bar, [1]);
  if (threadIdx.x == 0) mae_mbar_init(bar, 1);
  mae_cluster_sync();
  if (mae_cluster_ctarank() == 0) mae_mbar_wait(bar, 0);
  out[threadIdx.x] = 1;
  mae_cluster_sync();
}

// ---- harness ----
template <typename... P, typename... A>
std::string run(const char* schedule, dim3 cluster, dim3 grid, void (*k)(P...), unsigned threads, A... args) {
  ::mae_emu::set_schedule_name(schedule);
  const cudaError_t e = MAE_LAUNCH_CLUSTER(k, cluster, grid, threads, 0, nullptr, args...);
  ::mae_emu::set_schedule_name("forward");
  cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(::mae_emu::last_error_detail());
}
bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

void check_ranks() {
  int *out = nullptr, *flag = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 4 * 64 * sizeof(int));
  cudaMalloc(reinterpret_cast<void**>(&flag), 4 * sizeof(int));
  bool all = true;
  std::string faults;
  for (const char* sch : kSchedules) {
    cudaMemset(flag, 0, 4 * sizeof(int));
    const std::string f = run(sch, dim3(2, 1, 1), dim3(2, 2, 1), ranks, 64, out, flag);
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    const std::vector<int> h = host_copy(out, 4 * 64);
    for (unsigned b = 0; b < 4; ++b)
      for (unsigned t = 0; t < 64; ++t) {
        const int want = static_cast<int>((b % 2) + 16 * 2 + 256 * ((b % 2) + 8 * (b / 2))) +
                         (t == 0 ? 1000 * static_cast<int>((b ^ 1u) + 1) : 0);
        all = all && h[b * 64 + t] == want;
      }
  }
  check(all && faults.empty(),
        "clusters: each CTA's rank (x fastest), the cluster's size and blockIdx; barrier.cluster orders a "
        "CTA's write before its neighbour's read" + faults);
  cudaFree(out);
  cudaFree(flag);
}

void check_remote_arrive() {
  int* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 2 * 32 * sizeof(int));
  bool all = true;
  std::string faults;
  for (const char* sch : kSchedules) {
    cudaMemset(out, 0, 2 * 32 * sizeof(int));
    const std::string f = run(sch, dim3(2, 1, 1), dim3(2, 1, 1), ping, 32, out);
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    for (int v : host_copy(out, 64)) all = all && v == 1;
  }
  check(all && faults.empty(), "clusters: an arrival on the other CTA's mbarrier completes its phase" + faults);
}

void check_multicast() {
  std::vector<uint16_t> h(64 * 64);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i + 1);
  uint16_t* g = device_copy(h);
  uint16_t* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 2 * 64 * 64 * 2);
  MaeTmaMap m{};
  mae_emu::TmaSpec s{};
  s.base = g, s.rank = 3, s.elem_bytes = 2, s.swizzle_bytes = 128;
  s.dims[0] = 64, s.dims[1] = 64, s.dims[2] = 1, s.strides[1] = 128, s.strides[2] = 64 * 128;
  s.box[0] = 64, s.box[1] = 32, s.box[2] = 1;
  mae_emu::tma_encode(&m, s);
  bool all = true;
  std::string faults;
  for (const char* sch : kSchedules) {
    cudaMemset(out, 0, 2 * 64 * 64 * 2);
    const std::string f = run(sch, dim3(2, 1, 1), dim3(2, 1, 1), multicast, 64, out, m, uint16_t{3});
    if (!f.empty()) faults += std::string(" [") + sch + "] " + f;
    const std::vector<uint16_t> o = host_copy(out, 2 * 64 * 64);
    for (int b = 0; b < 2; ++b)
      for (int r = 0; r < 64; ++r)
        for (int e = 0; e < 64; ++e) {
          const int byte = r * 128 + 16 * ((e / 8) ^ (r % 8)) + 2 * (e % 8);
          all = all && o[b * 64 * 64 + byte / 2] == h[r * 64 + e];
        }
  }
  check(all && faults.empty(), "clusters: TMA boxes multicast to both CTAs land whole in each" + faults);
  const std::string wide = run("forward", dim3(2, 1, 1), dim3(2, 1, 1), multicast, 64, out, m, uint16_t{5});
  check(has(wide, "outside the cluster of 2"), "clusters: a multicast mask naming a CTA outside the cluster is a fault: " + wide);
  cudaFree(g);
  cudaFree(out);
}

void check_faults() {
  int* out = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&out), 64 * sizeof(int));
  const std::string gone = run("forward", dim3(2, 1, 1), dim3(2, 1, 1), arrive_after_exit, 32, out);
  check(has(gone, "has exited"), "clusters: an arrival on a CTA that has exited is a fault: " + gone);
  const std::string interleaved = run("forward", dim3(2, 1, 1), dim3(2, 1, 1), exit_unsynced, 32, out);
  const std::string led = run("lead", dim3(2, 1, 1), dim3(2, 1, 1), exit_unsynced, 32, out);
  check(interleaved.empty() && has(led, "has exited"),
        "clusters: under lead, CTA 0 runs to its end first, so a peer's arrival on it after that is a fault "
        "(forward: '" + interleaved + "'; lead: '" + led + "')");
  const std::string dead = run("forward", dim3(2, 1, 1), dim3(2, 1, 1), starved, 32, out);
  check(has(dead, "deadlock"), "clusters: a wait no CTA of the cluster can complete is a deadlock fault: " + dead);
  const std::string odd = run("forward", dim3(2, 1, 1), dim3(3, 1, 1), ping, 32, out);
  check(has(odd, "not a multiple of cluster"), "clusters: a grid the cluster does not divide is refused: " + odd);
  const std::string big = run("forward", dim3(16, 1, 1), dim3(16, 1, 1), ping, 32, out);
  check(has(big, "portable limit 8"), "clusters: a cluster over 8 blocks is refused: " + big);
  cudaFree(out);
}
}  // namespace

int main() {
  check_ranks();
  check_remote_arrive();
  check_multicast();
  check_faults();
  return finish("mae_emu_cluster_test");
}
