// api_memory.cpp (emulator): device memory and pinned host memory. cudaMalloc hands out page-aligned
// memory of the device address space (api_arena.cpp), filled with 0xFF bytes (NaN as f32/bf16/f16, -1 as integers) so that reading
// memory nobody wrote shows; every live allocation is kept in a registry (device, base, size, a
// sequence number) that the copy checks and the device side (mae_emu::find_allocation) consult.
// MAE_EMU_MEMORY_BYTES caps each device's memory (cudaErrorMemoryAllocation past it). cudaFree of a
// pointer cudaMalloc did not return is cudaErrorInvalidValue. cudaHostRegister/cudaHostUnregister
// keep the registered ranges (overlaps and unknown pointers fail as in CUDA); registered ranges are
// what a captured host copy may use. cudaMalloc, cudaFree and host registration are "potentially
// unsafe" during a capture (see check_unsafe_locked).
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {

constexpr size_t kAlign = 256;
constexpr int kMaxDevices = 8;

std::map<uintptr_t, Allocation> g_allocations;  // by base
std::map<uintptr_t, size_t> g_registered;       // host ranges by base
size_t g_used[kMaxDevices] = {};
unsigned long long g_next_id = 1;
std::atomic<unsigned long long> g_freed{0};  // frees so far (device-side caches of live blocks check it)

uintptr_t addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// The registered host range overlapping [p, p + n), if any.
std::map<uintptr_t, size_t>::iterator overlapping_locked(uintptr_t p, size_t n) {
  auto it = g_registered.upper_bound(p);
  if (it != g_registered.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second > p) return prev;
  }
  if (it != g_registered.end() && it->first < p + n) return it;
  return g_registered.end();
}

// Reserves `size` bytes of device memory for the current device and registers the block.
cudaError_t allocate_locked(int device, size_t size, void** out) {
  const size_t rounded = round_up(size);
  const size_t cap = config().memory_cap;
  if (rounded > cap || g_used[device] > cap - rounded)
    return fail(cudaErrorMemoryAllocation,
                format("cudaMalloc: %zu bytes on device %d: %zu of %zu bytes are in use (MAE_EMU_MEMORY_BYTES caps "
                       "the emulated memory)", size, device, g_used[device], cap));
  void* p = arena_allocate_locked(size);
  if (p == nullptr)
    return fail(cudaErrorMemoryAllocation,
                format("cudaMalloc: the host has no %zu bytes of memory or address space for device %d", size, device));
  g_allocations[addr(p)] = Allocation{p, size, device, g_next_id++};
  g_used[device] += rounded;
  *out = p;
  return cudaSuccess;
}

}  // namespace

bool find_allocation_locked(const void* p, size_t bytes, Allocation* out) {
  const uintptr_t a = addr(p);
  auto it = g_allocations.upper_bound(a);
  if (it == g_allocations.begin()) return false;
  const Allocation& found = std::prev(it)->second;
  const uintptr_t base = addr(found.base);
  if (a + bytes < a || a + bytes > base + found.size) return false;
  if (out) *out = found;
  return true;
}

bool host_registered_locked(const void* p, size_t bytes) {
  const uintptr_t a = addr(p);
  auto it = g_registered.upper_bound(a);
  if (it == g_registered.begin()) return false;
  --it;
  return a + bytes >= a && a + bytes <= it->first + it->second;
}

void reset_memory() {
  std::lock_guard<std::mutex> lock(mu());
  for (auto& a : g_allocations) arena_release_locked(const_cast<void*>(a.second.base), a.second.size);
  g_freed.fetch_add(1);
  g_allocations.clear();
  g_registered.clear();
  for (size_t& u : g_used) u = 0;
  g_next_id = 1;
}

}  // namespace detail

bool find_allocation(const void* p, size_t bytes, Allocation* out) {
  std::lock_guard<std::mutex> lock(detail::mu());
  return detail::find_allocation_locked(p, bytes, out);
}

bool device_address(const void* p) { return detail::in_arena(p); }

unsigned long long allocation_frees() { return detail::g_freed.load(std::memory_order_acquire); }

std::string describe_device_range(const void* p, size_t bytes) {
  using detail::format;
  std::lock_guard<std::mutex> lock(detail::mu());
  const uintptr_t a = detail::addr(p);
  const auto describe = [](const Allocation& x) {
    return format("allocation #%llu [%p, +%zu) of device %d", x.id, x.base, x.size, x.device);
  };
  constexpr size_t kNear = 1024 * 1024;
  auto next = detail::g_allocations.upper_bound(a);
  size_t past = SIZE_MAX, before = SIZE_MAX;  // distances to the allocation below and the one above
  if (next != detail::g_allocations.begin()) {
    const Allocation& below = std::prev(next)->second;
    const uintptr_t end = detail::addr(below.base) + below.size;
    if (a < end) return format("%zu bytes at offset %zu of ", bytes, size_t(a - detail::addr(below.base))) +
                        describe(below) + format(", running %zu bytes past its end", size_t(a + bytes - end));
    past = a - end;
  }
  if (next != detail::g_allocations.end()) before = detail::addr(next->second.base) - a;
  if (past <= before && past < kNear) return format("%zu bytes past the end of ", past) + describe(std::prev(next)->second);
  if (before < kNear) return format("%zu bytes before the start of ", before) + describe(next->second);
  return "device memory no live allocation holds (freed, or never allocated)";
}

}  // namespace mae_emu

using namespace mae_emu::detail;

namespace {
bool fill_from_env() {
  const char* e = std::getenv("MAE_EMU_FILL");
  return e == nullptr || std::strcmp(e, "0") != 0;
}
std::atomic<bool> g_fill{fill_from_env()};
}  // namespace

void mae_emu::set_alloc_fill(bool on) { g_fill.store(on, std::memory_order_relaxed); }

cudaError_t cudaMalloc(void** devPtr, size_t size) {
  if (devPtr == nullptr) return fail(cudaErrorInvalidValue, "cudaMalloc: devPtr is NULL");
  *devPtr = nullptr;
  void* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu());
    if (cudaError_t e = check_unsafe_locked("cudaMalloc")) return e;
    if (size == 0) return cudaSuccess;
    if (cudaError_t e = allocate_locked(current_device(), size, &p)) return e;
  }
  if (g_fill.load(std::memory_order_relaxed)) std::memset(p, 0xFF, size);
  *devPtr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* devPtr) {
  if (devPtr == nullptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_unsafe_locked("cudaFree")) return e;
  auto it = g_allocations.find(addr(devPtr));
  if (it == g_allocations.end()) {
    mae_emu::Allocation inside;
    if (find_allocation_locked(devPtr, 1, &inside))
      return fail(cudaErrorInvalidValue,
                  format("cudaFree: %p is %zu bytes into allocation #%llu, not its start", devPtr,
                         static_cast<size_t>(addr(devPtr) - addr(inside.base)), inside.id));
    return fail(cudaErrorInvalidValue,
                format("cudaFree: %p is not a live cudaMalloc allocation (freed twice, or never allocated)", devPtr));
  }
  g_used[it->second.device] -= round_up(it->second.size);
  arena_release_locked(devPtr, it->second.size);
  g_allocations.erase(it);
  g_freed.fetch_add(1);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (free == nullptr || total == nullptr) return fail(cudaErrorInvalidValue, "cudaMemGetInfo: a NULL argument");
  std::lock_guard<std::mutex> lock(mu());
  *total = config().memory_cap;
  *free = *total - g_used[current_device()];
  return cudaSuccess;
}

cudaError_t cudaHostRegister(void* ptr, size_t size, unsigned int flags) {
  if (ptr == nullptr || size == 0 || (flags & ~0xFu) != 0)
    return fail(cudaErrorInvalidValue,
                format("cudaHostRegister: ptr %p, %zu bytes, flags 0x%x: need memory and known flags", ptr, size, flags));
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_unsafe_locked("cudaHostRegister")) return e;
  if (find_allocation_locked(ptr, 1, nullptr))
    return fail(cudaErrorInvalidValue, format("cudaHostRegister: %p is device memory (cudaMalloc)", ptr));
  auto it = overlapping_locked(addr(ptr), size);
  if (it != g_registered.end())
    return fail(cudaErrorHostMemoryAlreadyRegistered,
                format("cudaHostRegister: [%p, +%zu) overlaps the registered range [%p, +%zu)", ptr, size,
                       reinterpret_cast<void*>(it->first), it->second));
  g_registered[addr(ptr)] = size;
  return cudaSuccess;
}

cudaError_t cudaHostUnregister(void* ptr) {
  if (ptr == nullptr) return fail(cudaErrorInvalidValue, "cudaHostUnregister: ptr is NULL");
  std::lock_guard<std::mutex> lock(mu());
  if (cudaError_t e = check_unsafe_locked("cudaHostUnregister")) return e;
  auto it = g_registered.find(addr(ptr));
  if (it == g_registered.end())
    return fail(cudaErrorHostMemoryNotRegistered,
                format("cudaHostUnregister: %p is not the start of a range cudaHostRegister registered", ptr));
  g_registered.erase(it);
  return cudaSuccess;
}
