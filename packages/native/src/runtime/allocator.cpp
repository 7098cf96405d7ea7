// allocator.cpp: the caching allocator behind tensor storage. Requests are rounded up to a bucket
// (512 B minimum, then quarter-octave steps) and freed blocks wait on their bucket's free list for
// reuse. CUDA blocks come from cudaMalloc on the right device; when it runs out of memory the
// device's cache is released and the allocation is tried once more. Pools are never destroyed, so
// tensors released during process exit are safe. Limitation: a block freed while a kernel on a
// non-default stream still uses it can be handed out again at once (no per-stream tracking).
// While a CUDA graph is captured on a device, its allocations belong to the capture's private
// pool: blocks freed then are reused only by later allocations of the same capture (safe: one
// stream orders them) and never by other tensors while the graph lives; destroying the graph
// gives them back to the device's cache.
#include "allocator.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace mae_rt {

struct PrivatePool {
  std::unordered_map<size_t, std::vector<void*>> free_lists;
};

namespace {

constexpr int kMaxCudaDevices = 64;

struct Live {
  size_t size;            // bucket size
  PrivatePool* owner;     // the capture pool that owns the block, or nullptr
};

struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;  // bucket size -> cached blocks
  std::unordered_map<void*, Live> live;
  PrivatePool* capturing = nullptr;  // set while a graph is captured on this device
  size_t allocated = 0;
  size_t reserved = 0;
  size_t peak = 0;
};

Pool* pool_for(mae_device d) {
  // Leaked on purpose: tensors may be released by finalizers during process exit.
  static Pool* cpu = new Pool();
  static Pool* cuda = new Pool[kMaxCudaDevices];
  if (d.type == MAE_DEVICE_CPU) return cpu;
  if (d.index < 0 || d.index >= kMaxCudaDevices) return nullptr;
  return &cuda[d.index];
}

size_t bucket_size(size_t n) {
  if (n <= 512) return 512;
  int msb = 63 - __builtin_clzll(static_cast<unsigned long long>(n - 1));
  size_t step = (static_cast<size_t>(1) << msb) / 4;
  return (n + step - 1) / step * step;
}

void raw_free(mae_device d, void* p) {
  if (d.type == MAE_DEVICE_CPU) {
    std::free(p);
    return;
  }
#ifdef MAE_WITH_CUDA
  DeviceGuard guard(d.index);
  if (cudaFree(p) != cudaSuccess) (void)cudaGetLastError();  // e.g. during process teardown
#endif
}

// Frees every cached block of the pool (caller holds pool.mu).
void release_cached(mae_device d, Pool& pool) {
  for (auto& entry : pool.free_lists) {
    for (void* p : entry.second) {
      raw_free(d, p);
      pool.reserved -= entry.first;
    }
  }
  pool.free_lists.clear();
}

mae_status raw_alloc(mae_device d, size_t size, void** out, const char* fn, Pool& pool) {
  if (d.type == MAE_DEVICE_CPU) {
    void* p = std::aligned_alloc(64, size);
    if (p == nullptr) {
      release_cached(d, pool);
      p = std::aligned_alloc(64, size);
    }
    if (p == nullptr) {
      return mae_fail("%s: out of host memory allocating %s (allocated %s, cached %s)", fn,
                      bytes_str(size).c_str(), bytes_str(pool.allocated).c_str(),
                      bytes_str(pool.reserved - pool.allocated).c_str());
    }
    *out = p;
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  DeviceGuard guard(d.index);
  if (guard.status() != cudaSuccess) return cuda_fail(guard.status(), fn, "cudaSetDevice");
  cudaError_t err = cudaMalloc(out, size);
  // out of memory: free the cached blocks and try once more, but not while the device captures a
  // graph (cudaFree synchronises the device, which a capture forbids: it would be invalidated)
  if (err == cudaErrorMemoryAllocation && !capturing(d.index)) {
    (void)cudaGetLastError();
    release_cached(d, pool);
    err = cudaMalloc(out, size);
  }
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return mae_fail("%s: out of memory on %s allocating %s (allocated %s, reserved %s)", fn,
                    device_str(d).c_str(), bytes_str(size).c_str(), bytes_str(pool.allocated).c_str(),
                    bytes_str(pool.reserved).c_str());
  }
  if (err != cudaSuccess) return cuda_fail(err, fn, "cudaMalloc");
  return MAE_OK;
#else
  return mae_fail("%s: %s requested but mae-cuda was built without CUDA", fn, device_str(d).c_str());
#endif
}

}  // namespace

mae_status device_alloc(mae_device d, size_t nbytes, void** out, const char* fn) {
  *out = nullptr;
  if (nbytes == 0) return MAE_OK;
  Pool* pool = pool_for(d);
  if (pool == nullptr) return mae_fail("%s: no allocator for %s", fn, device_str(d).c_str());
  const size_t size = bucket_size(nbytes);
  std::lock_guard<std::mutex> lock(pool->mu);
  PrivatePool* owner = pool->capturing;
  auto take = [&](std::unordered_map<size_t, std::vector<void*>>& lists) {
    auto it = lists.find(size);
    if (it == lists.end() || it->second.empty()) return false;
    *out = it->second.back();
    it->second.pop_back();
    return true;
  };
  if (!(owner != nullptr && take(owner->free_lists)) && !take(pool->free_lists)) {
    if (raw_alloc(d, size, out, fn, *pool) != MAE_OK) return MAE_ERROR;
    pool->reserved += size;
  }
  pool->live[*out] = Live{size, owner};
  pool->allocated += size;
  if (pool->allocated > pool->peak) pool->peak = pool->allocated;
  return MAE_OK;
}

void device_free(mae_device d, void* p) {
  if (p == nullptr) return;
  Pool* pool = pool_for(d);
  if (pool == nullptr) return;
  std::lock_guard<std::mutex> lock(pool->mu);
  auto it = pool->live.find(p);
  if (it == pool->live.end()) return;
  const Live block = it->second;
  pool->live.erase(it);
  pool->allocated -= block.size;
  (block.owner != nullptr ? block.owner->free_lists : pool->free_lists)[block.size].push_back(p);
}

PrivatePool* private_pool_begin(mae_device d) {
  Pool* pool = pool_for(d);
  if (pool == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(pool->mu);
  if (pool->capturing != nullptr) return nullptr;
  pool->capturing = new PrivatePool();
  return pool->capturing;
}

void private_pool_end(mae_device d) {
  Pool* pool = pool_for(d);
  if (pool == nullptr) return;
  std::lock_guard<std::mutex> lock(pool->mu);
  pool->capturing = nullptr;
}

void private_pool_release(mae_device d, PrivatePool* p) {
  Pool* pool = pool_for(d);
  if (pool == nullptr || p == nullptr) return;
  std::lock_guard<std::mutex> lock(pool->mu);
  if (pool->capturing == p) pool->capturing = nullptr;
  for (auto& entry : p->free_lists)
    for (void* block : entry.second) pool->free_lists[entry.first].push_back(block);
  for (auto& entry : pool->live)
    if (entry.second.owner == p) entry.second.owner = nullptr;
  delete p;
}

}  // namespace mae_rt

extern "C" {

mae_status mae_memory_stats(mae_device device, size_t* allocated, size_t* reserved, size_t* peak_allocated) {
  if (mae_rt::check_device(device, "mae_memory_stats") != MAE_OK) return MAE_ERROR;
  mae_rt::Pool* pool = mae_rt::pool_for(device);
  if (pool == nullptr) return mae_fail("mae_memory_stats: no allocator for %s", mae_rt::device_str(device).c_str());
  std::lock_guard<std::mutex> lock(pool->mu);
  if (allocated != nullptr) *allocated = pool->allocated;
  if (reserved != nullptr) *reserved = pool->reserved;
  if (peak_allocated != nullptr) *peak_allocated = pool->peak;
  return MAE_OK;
}

mae_status mae_memory_reset_peak(mae_device device) {
  if (mae_rt::check_device(device, "mae_memory_reset_peak") != MAE_OK) return MAE_ERROR;
  mae_rt::Pool* pool = mae_rt::pool_for(device);
  if (pool == nullptr) return mae_fail("mae_memory_reset_peak: no allocator for %s", mae_rt::device_str(device).c_str());
  std::lock_guard<std::mutex> lock(pool->mu);
  pool->peak = pool->allocated;
  return MAE_OK;
}

mae_status mae_empty_cache(mae_device device) {
  if (mae_rt::check_device(device, "mae_empty_cache") != MAE_OK) return MAE_ERROR;
  mae_rt::Pool* pool = mae_rt::pool_for(device);
  if (pool == nullptr) return mae_fail("mae_empty_cache: no allocator for %s", mae_rt::device_str(device).c_str());
  std::lock_guard<std::mutex> lock(pool->mu);
  mae_rt::release_cached(device, *pool);
  return MAE_OK;
}

}  // extern "C"
