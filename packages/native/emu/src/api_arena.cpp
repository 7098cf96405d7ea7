// api_arena.cpp (emulator): the emulated devices' address space. cudaMalloc's memory comes from one
// reserved range of the process's address space (4 TiB, PROT_NONE, reserved on first use), so the
// device side can tell a device address from any host address by a range check (the memcheck of
// device_check.cpp). Each allocation is whole pages made readable and writable, followed by a
// 64 KiB gap that stays inaccessible (an access running off the end lands in no allocation), and
// allocations (the first after a gap too) are placed next-fit (after the previous one, wrapping around): freed addresses come
// back only once the range has been gone through, so a stale pointer finds nothing, not a newer
// allocation. A freed range is mapped PROT_NONE again (its pages go back to the system), so host
// code touching freed device memory faults at once.
#include <sys/mman.h>

#include <atomic>
#include <map>
#include <mutex>

#include "api_internal.h"

namespace mae_emu {
namespace detail {
namespace {

constexpr size_t kReserve = size_t(1) << 42;  // 4 TiB of address space, no memory
constexpr size_t kPage = 4096;
constexpr size_t kGap = 64 * 1024;

std::atomic<uintptr_t> g_base{0};
std::atomic<size_t> g_size{0};
std::once_flag g_once;
std::map<uintptr_t, size_t> g_free;  // free ranges by start (under mu())
uintptr_t g_cursor = 0;              // where the next search starts (next-fit)

size_t pages(size_t bytes) { return (bytes + kPage - 1) / kPage * kPage; }

void reserve() {
  void* p = mmap(nullptr, kReserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  g_free[reinterpret_cast<uintptr_t>(p) + kGap] = kReserve - kGap;  // a gap before the first one too
  g_cursor = reinterpret_cast<uintptr_t>(p) + kGap;
  g_size.store(kReserve);
  g_base.store(reinterpret_cast<uintptr_t>(p), std::memory_order_release);
}

// The first free range at or after `from` holding `need` bytes, or end().
std::map<uintptr_t, size_t>::iterator fit(uintptr_t from, size_t need) {
  for (auto it = g_free.lower_bound(from); it != g_free.end(); ++it)
    if (it->second >= need) return it;
  return g_free.end();
}

void insert_free(uintptr_t start, size_t size) {
  auto next = g_free.lower_bound(start);
  if (next != g_free.end() && start + size == next->first) size += next->second, next = g_free.erase(next);
  if (next != g_free.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      prev->second += size;
      return;
    }
  }
  g_free[start] = size;
}

}  // namespace

void* arena_allocate_locked(size_t bytes) {
  std::call_once(g_once, reserve);
  const size_t span = pages(bytes), need = span + kGap;
  auto it = fit(g_cursor, need);
  if (it == g_free.end()) it = fit(0, need);
  if (it == g_free.end()) return nullptr;
  const uintptr_t start = it->first;
  const size_t left = it->second - need;
  g_free.erase(it);
  if (left > 0) g_free[start + need] = left;
  void* p = reinterpret_cast<void*>(start);
  if (mprotect(p, span, PROT_READ | PROT_WRITE) != 0) {
    insert_free(start, need);
    return nullptr;
  }
  g_cursor = start + need;
  return p;
}

void arena_release_locked(void* p, size_t bytes) {
  const size_t span = pages(bytes);
  mmap(p, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);  // drops the pages
  insert_free(reinterpret_cast<uintptr_t>(p), span + kGap);
}

bool in_arena(const void* p) {
  const uintptr_t base = g_base.load(std::memory_order_acquire), a = reinterpret_cast<uintptr_t>(p);
  return a - base < g_size.load(std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace mae_emu
