// device_shared.cpp: shared memory of the block being run. A grid run maps one window: a 64 KiB
// gap, the static area (48 KiB, CUDA's limit for static __shared__), a gap, the dynamic area (the
// launch's smem bytes) and a gap; the checks (device_check.cpp) report an access to a gap as out of
// bounds. Static `__shared__` declarations (MAE_SHARED) get space in the static area the first time
// one of the block's threads reaches them, the same bytes for every thread of the block. Both areas
// are filled with 0xff at block start (a NaN in every float format), so a kernel that reads shared
// memory it never wrote sees poison, not a previous block's values.
#include <sys/mman.h>

#include <cstring>
#include <new>

#include "device_internal.h"

namespace mae_emu {
namespace {
size_t page_up(size_t n) { return (n + 4095) / 4096 * 4096; }
}  // namespace

void map_shared(Block& b, size_t dynamic_bytes) {
  const size_t dyn = page_up(dynamic_bytes);
  b.window_bytes = kSharedGap + kStaticArea + kSharedGap + dyn + kSharedGap;
  void* p = mmap(nullptr, b.window_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  b.window = static_cast<unsigned char*>(p);
  b.statics_base = b.window + kSharedGap;
  b.dynamic_base = b.statics_base + kStaticArea + kSharedGap;
  b.dynamic_bytes = dynamic_bytes;
}

void unmap_shared(Block& b) {
  if (b.window != nullptr) munmap(b.window, b.window_bytes);
  b.window = b.statics_base = b.dynamic_base = nullptr;
}

void reset_shared(Block& b) {
  std::memset(b.statics_base, 0xff, kStaticArea);
  std::memset(b.dynamic_base, 0xff, b.dynamic_bytes);
  b.static_used = 0;
  b.slots.clear();
}

void* SharedSlot::get() {
  Block* b = tl_block;
  if (b == nullptr) std::abort();  // a __shared__ declaration reached outside a kernel
  for (const auto& [slot, off] : b->slots)
    if (slot == this) return b->statics_base + off;
  const size_t off = (b->static_used + align_ - 1) / align_ * align_;
  if (off + bytes_ > kStaticArea) {
    fault_in_fiber(std::string("__shared__ ") + name_ + ": " + std::to_string(off + bytes_) +
                   " bytes of static shared memory, over CUDA's 48 KiB");
  }
  b->static_used = off + bytes_;
  b->slots.emplace_back(this, off);
  return b->statics_base + off;
}

void* dynamic_shared() {
  Block* b = tl_block;
  if (b == nullptr) std::abort();
  return b->dynamic_base;
}

}  // namespace mae_emu
