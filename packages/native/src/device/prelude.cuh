// prelude.cuh: device helpers every generated kernel file shares: warp and block reductions (warp
// shuffles and a 32-entry shared scratch), 16-byte loads as floats, the bf16 m16n8k16 tensor-core MMA (PTX mma.sync on
// sm_80+, the emulator's warp collective under
// MAE_CUDA_EMULATOR, a trap on older devices rather than a silent no-op), and the host-side launch
// helpers (errors, device selection, SM count, grid sizing). Included once, by the generated
// ops_cuda.cu, after mae_device.cuh.
#pragma once
#include <atomic>

namespace {
template <typename T> __device__ __forceinline__ T mae_warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <typename T> __device__ __forceinline__ T mae_warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Block-wide reduction; every thread gets the result. smem holds 32 partials.
template <bool IsMax, typename T> __device__ __forceinline__ T mae_block_reduce(T v, T* smem) {
  const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  v = IsMax ? mae_warp_max(v) : mae_warp_sum(v);
  __syncthreads();  // smem may still be read by a previous reduction
  if (lane == 0) smem[wid] = v;
  __syncthreads();
  T r = lane < nw ? smem[lane] : (IsMax ? (T)(-INFINITY) : (T)0);
  return IsMax ? mae_warp_max(r) : mae_warp_sum(r);
}
// The elements of 16 bytes at p as floats (the column reductions' loads along their outputs, the
// rowwise kernels' along their rows: codegen's vector.ts): 8 bf16 or 4 f32.
__device__ __forceinline__ void mae_ld_vec(float (&v)[8], const __nv_bfloat16* p) {
  uint32_t r[4];
  mae_ld16(r, p);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = __bfloat162float(__ushort_as_bfloat16(static_cast<unsigned short>(r[i] & 0xffffu)));
    v[2 * i + 1] = __bfloat162float(__ushort_as_bfloat16(static_cast<unsigned short>(r[i] >> 16)));
  }
}
__device__ __forceinline__ void mae_ld_vec(float (&v)[4], const float* p) { mae_ld16(v, p); }
// The same the other way: 8 floats rounded to bf16 (or 4 f32) as one 16-byte store (the rowwise
// kernels' `_warpv`).
__device__ __forceinline__ void mae_st_vec(__nv_bfloat16* p, const float (&v)[8]) {
  uint32_t r[4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
    r[i] = static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(v[2 * i]))) |
           static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(v[2 * i + 1]))) << 16;
  mae_st16(p, r);
}
__device__ __forceinline__ void mae_st_vec(float* p, const float (&v)[4]) { mae_st16(p, v[0], v[1], v[2], v[3]); }
// D = A B + C for one warp: A 16x16 bf16 (row), B 16x8 bf16 (col), C/D 16x8 f32, in the register
// fragments of PTX's mma.m16n8k16 (a: 4 x b32, b: 2 x b32, c: 4 x f32 per lane).
__device__ __forceinline__ void mae_mma_bf16_16816(float* c, const uint32_t* a, const uint32_t* b) {
#if defined(MAE_CUDA_EMULATOR)
  mae_emu::mma_bf16_16816(c, a, b);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(__CUDA_ARCH__)
  __trap();  // no tensor-core MMA below sm_80: never silently skip it
#endif
}
mae_status mae_launched(const char* op) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return MAE_OK;
#if defined(MAE_CUDA_EMULATOR)  // the emulator says which kernel, block, thread and check failed
  return mae_fail("%s: CUDA launch failed: %s: %s", op, cudaGetErrorString(e), ::mae_emu::last_error_detail());
#else
  return mae_fail("%s: CUDA launch failed: %s", op, cudaGetErrorString(e));
#endif
}
mae_status mae_use_device(int device, const char* op) {
  int cur = -1;
  cudaError_t e = cudaGetDevice(&cur);
  if (e == cudaSuccess && cur == device) return MAE_OK;
  e = cudaSetDevice(device);
  return e == cudaSuccess ? MAE_OK : mae_fail("%s: cannot use cuda:%d: %s", op, device, cudaGetErrorString(e));
}
// A device attribute, cached per device (launchers run on several host threads, hence atomics);
// `fallback` when it cannot be read.
int64_t mae_cached_attribute(std::atomic<int>* cache, cudaDeviceAttr attr, int device, int fallback) {
  if (device < 0 || device >= 64) return fallback;
  int n = cache[device].load(std::memory_order_relaxed);
  if (n == 0) {
    if (cudaDeviceGetAttribute(&n, attr, device) != cudaSuccess || n <= 0) n = fallback;
    cache[device].store(n, std::memory_order_relaxed);
  }
  return n;
}
// Multiprocessors of a device: schedules size their tiles to fill the card.
int64_t mae_sm_count(int device) {
  static std::atomic<int> cache[64];
  return mae_cached_attribute(cache, cudaDevAttrMultiProcessorCount, device, 132);
}
// The grid's z limit of a device (65535 on every GPU so far): launchers that cover more samples
// than that loop over z (the emulator can lower it, MAE_EMU_MAX_GRID_Z, to reach the loop).
int64_t mae_max_grid_z(int device) {
  static std::atomic<int> cache[64];
  return mae_cached_attribute(cache, cudaDevAttrMaxGridDimZ, device, 65535);
}
// Slices of k for split-K (gemm_async.cuh): enough for `tiles` output tiles to fill two waves of
// `sms` blocks, at most `cap`, each at least `min_tiles` k tiles (below 2: no split).
int64_t mae_split_k(int64_t tiles, int64_t k_tiles, int64_t sms, int64_t cap, int64_t min_tiles) {
  int64_t s = (2 * sms + tiles - 1) / tiles;
  if (s > cap) s = cap;
  if (s > k_tiles / min_tiles) s = k_tiles / min_tiles;
  return s;
}
// Slices of k for split-K with one block per SM (gemm_wgmma.cuh): of the splits into 2 to `cap`
// slices of at least `min_tiles` k tiles, the one whose `tiles` x slices blocks fill their last
// wave best (fewer slices on a tie: less to sum), counting only splits of at least a full wave when
// one exists; below 2: no split.
int64_t mae_split_k_waves(int64_t tiles, int64_t k_tiles, int64_t sms, int64_t cap, int64_t min_tiles) {
  const int64_t most = k_tiles / min_tiles < cap ? k_tiles / min_tiles : cap;
  if (most < 2 || tiles >= sms) return 1;
  const bool full = tiles * most >= sms;  // some split fills a wave
  int64_t best = 1;
  double best_eff = -1;
  for (int64_t s = 2; s <= most; ++s) {
    const int64_t blocks = tiles * s;
    if (full && blocks < sms) continue;
    const double eff = double(blocks) / double((blocks + sms - 1) / sms * sms);
    if (eff > best_eff + 1e-9) best = s, best_eff = eff;
  }
  return best;
}
// Row slices for a column reduction split across blocks (codegen's cuda_colsplit.ts), 8 a block:
// enough for `blocks` blocks over `col_blocks` blocks of columns, at most `cap`, each at least
// `min_rows` rows.
int64_t mae_colsplit(int64_t col_blocks, int64_t rows, int64_t blocks, int64_t cap, int64_t min_rows) {
  int64_t s = (8 * blocks + col_blocks - 1) / col_blocks;
  if (s > cap) s = cap;
  if (s > rows / min_rows) s = rows / min_rows;
  return s < 1 ? 1 : s;
}
// Whether p is 16-byte aligned (a tensor the vectorised column reductions load 16 bytes at a time).
bool mae_aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }
int64_t mae_blocks(int64_t work, int64_t per_block, int64_t cap) {
  const int64_t b = (work + per_block - 1) / per_block;
  return b < 1 ? 1 : (b > cap ? cap : b);
}
}  // namespace
