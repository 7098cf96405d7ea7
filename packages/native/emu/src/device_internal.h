// device_internal.h: the emulator's device-side state shared by its .cpp files: fibers (one per
// CUDA thread, on their own stacks), the block being run (its fibers, shared memory, warp exchange
// areas) and the scheduling orders. One OS thread runs one block at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mae_emu_device.h"

namespace mae_emu {

enum class FiberState { Ready, AtBarrier, AtWarpSync, Done };

struct Fiber {
  void* sp = nullptr;  // saved stack pointer while suspended
  unsigned char* stack = nullptr;
  uint3 tid{0, 0, 0};
  unsigned linear = 0;
  FiberState state = FiberState::Ready;
};

// A fault in a kernel: the grid stops and the launch reports it.
struct KernelFault {
  std::string what;
};

struct Block {
  const std::function<void()>* body = nullptr;
  const char* kernel = "";
  std::vector<Fiber> fibers;
  unsigned nthreads = 0;
  Fiber* current = nullptr;
  void* scheduler_sp = nullptr;
  // shared memory
  std::vector<unsigned char> statics;  // the block's static __shared__ bytes
  size_t static_used = 0;
  std::vector<std::pair<const SharedSlot*, size_t>> slots;
  std::vector<unsigned char> dynamic;
  unsigned char* dynamic_base = nullptr;
  unsigned char* statics_base = nullptr;  // statics, aligned to 256 bytes
  // one exchange area per warp: 32 x 8 bytes for shuffles, 32 x 10 words for the MMA fragments
  std::vector<uint64_t> exchange;
  std::vector<uint32_t> mma;
  // the first fault seen (the grid stops)
  bool faulted = false;
  std::string fault;
};

extern thread_local Block* tl_block;

// Stacks (device_fiber.cpp).
constexpr size_t kStackBytes = 256 * 1024;
unsigned char* take_stack();
void give_stack(unsigned char* stack);
// Prepares f to start in fiber_main on its stack; switches from the scheduler into f / back.
void prepare_fiber(Fiber& f);
void resume(Block& b, Fiber& f);
void suspend(Block& b);

// Scheduling orders (device_grid.cpp): MAE_EMU_SCHEDULE = forward (default), reverse,
// shuffle[:SEED], warp, warp-reverse.
struct Schedule {
  enum Kind { Forward, Reverse, Shuffle, Warp, WarpReverse } kind = Forward;
  uint64_t seed = 1;
};
Schedule schedule_from_env();
void set_schedule(Schedule s);
Schedule current_schedule();

// Records a fault in the running block (the first one wins) and, from a fiber, leaves it.
[[noreturn]] void fault_in_fiber(const std::string& what);
void reset_shared(Block& b, size_t dynamic_bytes);

}  // namespace mae_emu
