// mae_emu_device.h: the device side of the CUDA emulator, for the host C++ build of the CUDA
// sources: the qualifiers (__global__, __device__, __launch_bounds__ ... compile away), the built-in
// variables (threadIdx, blockIdx, blockDim, gridDim: per OS thread, set by the scheduler before it
// resumes each CUDA thread's fiber), __syncthreads (a block barrier), warp shuffles and the bf16
// m16n8k16 MMA (warp collectives), shared memory (per block, poisoned at block start), device math,
// and MAE_LAUNCH, which packs the arguments as a launch does and hands the grid to the runtime
// stand-in (mae_emu::launch_kernel: validation, streams, graph capture). See docs/EMULATOR.md.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "mae_emu_api.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) alignas(n)
#define __trap() ::mae_emu::trap(__FILE__, __LINE__)

struct uint3 {
  unsigned x, y, z;
};
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace mae_emu {
// ---- scheduling points (device_grid.cpp) ----
void syncthreads();                       // the block barrier
void warp_sync();                         // a barrier among the live lanes of the caller's warp
[[noreturn]] void trap(const char* file, int line);
// What the last grid run on this OS thread faulted on (kernel, block, thread, what), or "".
const char* device_fault_detail();
// Sets the order fibers run in, as MAE_EMU_SCHEDULE names it (forward, reverse, shuffle[:SEED],
// warp, warp-reverse); false for a name it does not know.
bool set_schedule_name(const char* name);
unsigned lane_id();
unsigned warp_id();
// The caller's warp's exchange area: 32 lanes x 8 bytes.
uint64_t* warp_exchange();

// ---- access checks (device_check.cpp): MAE_EMU_CHECK sets them at start (default all) ----
enum CheckBits : unsigned { kMemcheck = 1, kRacecheck = 2, kInitcheck = 4, kAllChecks = 7 };
void set_checks(unsigned bits);
unsigned checks();

// ---- shared memory (device_shared.cpp) ----
// One `__shared__` declaration: every CUDA thread of a block that reaches it gets the same bytes of
// that block's shared memory (allocated, and poisoned, by the first).
class SharedSlot {
 public:
  SharedSlot(size_t bytes, size_t align, const char* name) : bytes_(bytes), align_(align), name_(name) {}
  void* get();
  size_t bytes() const { return bytes_; }
  const char* name() const { return name_; }

 private:
  size_t bytes_, align_;
  const char* name_;
};
void* dynamic_shared();

// ---- warp collectives (device_warp.cpp) ----
// Every lane gives v and reads lane src(its own lane)'s.
template <typename T, typename Src>
T shfl_from(T v, const Src& src_of) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a value over 8 bytes");
  const unsigned lane = lane_id();
  uint64_t* x = warp_exchange();
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  warp_sync();  // every lane has read the previous exchange
  x[lane] = bits;
  warp_sync();  // every lane has written
  const unsigned src = src_of(lane);
  T out;
  const uint64_t got = x[src];
  std::memcpy(&out, &got, sizeof(T));
  return out;
}
// shfl.sync.bfly and shfl.sync.idx within segments of `width` lanes.
template <typename T>
T shfl_xor(T v, int lane_mask, int width) {
  const unsigned w = static_cast<unsigned>(width), m = static_cast<unsigned>(lane_mask);
  return shfl_from(v, [&](unsigned lane) { return (lane & ~(w - 1)) | ((lane ^ m) & (w - 1)); });
}
template <typename T>
T shfl_idx(T v, int src_lane, int width) {
  const unsigned w = static_cast<unsigned>(width), s = static_cast<unsigned>(src_lane);
  return shfl_from(v, [&](unsigned lane) { return (lane & ~(w - 1)) | (s & (w - 1)); });
}
void mma_bf16_16816(float* c, const uint32_t* a, const uint32_t* b);

// ---- asynchronous copies and matrix loads (device_async.cpp) ----
// cp.async.cg.shared.global: `bytes` (4, 8 or 16) to shared `smem`, the first `src_bytes` read from
// global `gmem` now, the rest zeros; they land when the thread waits for the copy's group.
void cp_async(void* smem, const void* gmem, int bytes, int src_bytes);
void cp_async_commit();              // cp.async.commit_group
void cp_async_wait(int pending);     // cp.async.wait_group: all but the newest `pending` groups land
// ldmatrix.sync.aligned.m8n8.x{num}[.trans].shared.b16 (a warp collective): lane l gives the
// address of row l % 8 of matrix l / 8 (16 bytes); r[i] receives matrix i's elements (l / 4,
// 2 (l % 4) + {0, 1}), or with trans (2 (l % 4) + {0, 1}, l / 4).
void ldmatrix(uint32_t* r, int num, bool trans, const void* row);

// ---- sm_90a: mbarriers, TMA and wgmma (device_hopper.cpp, device_wgmma.cpp) ----
// The shared-memory address of a pointer into the block's shared memory, as cvta.to.shared gives it
// (the static area at 0, the dynamic area after its 48 KiB), and back.
uint32_t shared_address(const void* p);
void* shared_pointer(uint32_t a);
// mbarrier.init / arrive / arrive.expect_tx / expect_tx on a barrier in shared memory (8 bytes,
// 8-byte aligned); mbarrier_wait blocks the thread until the barrier's phase of parity `parity`
// has completed (try_wait.parity in a loop).
void mbarrier_init(uint64_t* bar, unsigned count);
void mbarrier_arrive(uint64_t* bar);
void mbarrier_arrive_expect_tx(uint64_t* bar, unsigned bytes);
void mbarrier_wait(uint64_t* bar, unsigned parity);
// A tensor map as cuTensorMapEncodeTiled would make it (tiled, no interleave, element strides 1,
// zero fill), in the 128 opaque bytes of a CUtensorMap; the words of a refusal, or "" (then written).
struct TmaSpec {
  const void* base;
  uint16_t rank, elem_bytes, swizzle_bytes;  // swizzle: 0 (none), 32, 64 or 128
  uint64_t dims[5], strides[5];              // strides[0] unused (elements are contiguous), bytes
  uint32_t box[5];
};
const char* tma_encode(void* map128, const TmaSpec& spec);
// cp.async.bulk.tensor.{rank}d.shared::cluster.global.mbarrier::complete_tx::bytes: the box at
// element coordinates c[0..rank) (out-of-range elements read as zeros) into shared `dst`, swizzled
// as the map says; its bytes count against `bar`'s transactions when they land.
void tma_load(void* dst, const void* map128, const int32_t* c, uint64_t* bar);
// wgmma.mma_async.sync.aligned.m64n{n}k16.f32.bf16.bf16 with both operands in shared memory: d
// (this thread's n / 2 accumulators) = (scale_d ? d : 0) + A B, A (64 x 16) and B (16 x n) read
// through the matrix descriptors (trans: MN-major); fence, commit_group and wait_group as PTX.
void wgmma(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool scale_d, bool trans_a, bool trans_b);
void wgmma_fence();
void wgmma_commit();
void wgmma_wait(int pending);
// Thread block clusters (device_cluster.cpp): %cluster_ctarank and %cluster_nctarank (a plain launch
// is a cluster of one); barrier.cluster.arrive + wait (every live thread of the cluster); an
// mbarrier arrival on the barrier at bar's shared address in CTA `cta` of the cluster (mapa +
// mbarrier.arrive.release.cluster.shared::cluster); a TMA tile load multicast to the CTAs of
// `mask`: the box read once, landing at dst's shared address in each and completing transactions
// on the mbarrier at bar's shared address there (.multicast::cluster).
// The performance counters (MAE_EMU_COUNT, device_count.cpp): a persistent kernel's block starts one
// of the launch's `total` tiles (MAE_COUNT_TILE; the model scales its counts per tile and weighs the
// blocks' unequal shares).
void count_tile(uint64_t total);
// The step of a persistent block's walk over its tiles first, first + step, ... below `end`: `step`,
// or under block sampling (MAE_EMU_SAMPLE_BLOCKS, the kernel report's) the step from its first tile
// to its last, so that it runs those two (MAE_TILES_STEP: the counts scale per tile, and the two
// span the block's share of the output; the other tiles' outputs are not written, as the blocks
// not run do not write theirs).
int64_t tiles_step(int64_t first, int64_t end, int64_t step);
unsigned cluster_ctarank();
unsigned cluster_nctarank();
void cluster_sync();
void mbarrier_arrive_cluster(uint64_t* bar, unsigned cta);
void tma_load_multicast(void* dst, const void* map128, const int32_t* c, uint64_t* bar, uint16_t mask);

// ---- launches: the arguments converted and copied as CUDA does at the launch ----
// flat: launched with MAE_LAUNCH_FLAT (no barrier, no warp collective: threads run without fibers).
// cluster: the thread block cluster's shape (MAE_LAUNCH_CLUSTER; 1 x 1 x 1 otherwise).
template <typename... P, typename... A>
cudaError_t launch_in(const char* name, bool flat, dim3 cluster, void (*kernel)(P...), dim3 grid, dim3 block,
                      size_t smem, cudaStream_t stream, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "kernel launched with the wrong number of arguments");
  std::tuple<std::decay_t<P>...> packed(std::forward<A>(args)...);
  return launch_kernel(
      stream, reinterpret_cast<const void*>(kernel), name, grid, block, smem,
      [kernel, packed]() { std::apply(kernel, packed); }, flat, cluster);
}
template <typename... P, typename... A>
cudaError_t launch(const char* name, bool flat, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem,
                   cudaStream_t stream, A&&... args) {
  return launch_in(name, flat, dim3(1, 1, 1), kernel, grid, block, smem, stream, std::forward<A>(args)...);
}
}  // namespace mae_emu

inline void __syncthreads() { ::mae_emu::syncthreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { ::mae_emu::warp_sync(); }
template <typename T>
inline T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask, int width = 32) {
  return ::mae_emu::shfl_xor(v, lane_mask, width);
}
template <typename T>
inline T __shfl_sync(unsigned /*mask*/, T v, int src_lane, int width = 32) {
  return ::mae_emu::shfl_idx(v, src_lane, width);
}

// Device math the kernels call that host C++ does not have under these names.
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __fdividef(float a, float b) { return a / b; }
using std::exp2;
using std::fmax;
using std::fmin;
template <typename A, typename B>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
template <typename A, typename B>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(b) : static_cast<C>(a);
}

#define MAE_LAUNCH(kernel, grid, block, smem, stream, ...) \
  ::mae_emu::launch(#kernel, false, kernel, dim3(grid), dim3(block), (smem), (stream), __VA_ARGS__)
#define MAE_LAUNCH_FLAT(kernel, grid, block, smem, stream, ...) \
  ::mae_emu::launch(#kernel, true, kernel, dim3(grid), dim3(block), (smem), (stream), __VA_ARGS__)
#define MAE_LAUNCH_CLUSTER(kernel, cluster, grid, block, smem, stream, ...) \
  ::mae_emu::launch_in(#kernel, false, dim3(cluster), kernel, dim3(grid), dim3(block), (smem), (stream), __VA_ARGS__)
#define MAE_SHARED(type, name, dims)                                                   \
  static ::mae_emu::SharedSlot name##_mae_slot(sizeof(type dims), alignof(type), #name); \
  type(&name) dims = *reinterpret_cast<type(*) dims>(name##_mae_slot.get())
#define MAE_SHARED_ALIGNED(align, type, name, dims)                                                         \
  static ::mae_emu::SharedSlot name##_mae_slot(sizeof(type dims), (align) > alignof(type) ? (align) : alignof(type), \
                                               #name);                                                      \
  type(&name) dims = *reinterpret_cast<type(*) dims>(name##_mae_slot.get())
#define MAE_DYNAMIC_SHARED(align, type, name) type* const name = reinterpret_cast<type*>(::mae_emu::dynamic_shared())
