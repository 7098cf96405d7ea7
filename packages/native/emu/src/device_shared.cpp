// device_shared.cpp: shared memory of the block being run. Static `__shared__` declarations
// (MAE_SHARED) get space in the block's static area the first time one of its threads reaches them,
// the same bytes for every thread of the block; the dynamic area (MAE_DYNAMIC_SHARED) is the
// launch's smem bytes. Both are filled with 0xff at block start (a NaN in every float format), so a
// kernel that reads shared memory it never wrote sees poison, not a previous block's values.
#include <cstring>

#include "device_internal.h"

namespace mae_emu {
namespace {
constexpr size_t kStaticLimit = 48 * 1024;  // CUDA's limit for static __shared__ per block
constexpr size_t kAlign = 256;

unsigned char* aligned(std::vector<unsigned char>& v) {
  auto p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<unsigned char*>((p + kAlign - 1) & ~(kAlign - 1));
}
}  // namespace

void reset_shared(Block& b, size_t dynamic_bytes) {
  b.statics.assign(kStaticLimit + kAlign, 0xff);
  b.statics_base = aligned(b.statics);
  b.static_used = 0;
  b.slots.clear();
  b.dynamic.assign(dynamic_bytes + kAlign, 0xff);
  b.dynamic_base = aligned(b.dynamic);
}

void* SharedSlot::get() {
  Block* b = tl_block;
  if (b == nullptr) std::abort();  // a __shared__ declaration reached outside a kernel
  for (const auto& [slot, off] : b->slots)
    if (slot == this) return b->statics_base + off;
  const size_t off = (b->static_used + align_ - 1) / align_ * align_;
  if (off + bytes_ > kStaticLimit) {
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
