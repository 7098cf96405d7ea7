// device_fiber.cpp: the fibers the emulator runs CUDA threads on: stacks (mmap'd, with a guard page
// below each so an overflow faults instead of corrupting its neighbour, kept in a pool between
// launches) and the context switch. On x86-64 the switch is a few instructions of assembly that
// save the callee-saved registers, MXCSR and the x87 control word (what Boost.Context's fcontext
// saves, without its library); other architectures use ucontext. Under AddressSanitizer (the
// MAE_EMU_SANITIZE build) every switch is announced to it (__sanitizer_start/finish_switch_fiber),
// so that it knows which stack is running.
#include <sys/mman.h>

#include <cstdlib>
#include <mutex>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define MAE_EMU_ASAN 1
#else
#define MAE_EMU_ASAN 0
#endif

#include "device_internal.h"

#if defined(__x86_64__)
extern "C" void mae_emu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl mae_emu_switch
.type mae_emu_switch,@function
mae_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size mae_emu_switch,.-mae_emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");
#else
#include <ucontext.h>
#endif

namespace mae_emu {
namespace {
constexpr size_t kGuard = 4096;

#if MAE_EMU_ASAN
thread_local const void* tl_sched_bottom = nullptr;  // the scheduler's stack, as ASan reported it
thread_local size_t tl_sched_size = 0;
#endif

// Called on a fiber's stack right after a switch into it (fake: what start_switch_fiber saved).
void entered_fiber(void* fake) {
#if MAE_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, &tl_sched_bottom, &tl_sched_size);
#else
  (void)fake;
#endif
}
std::mutex g_pool_mutex;
std::vector<unsigned char*> g_pool;

// The first code a fiber runs: the kernel body for its CUDA thread, then back to the scheduler.
extern "C" void mae_emu_fiber_main() {
  entered_fiber(nullptr);
  Block& b = *tl_block;
  try {
    (*b.body)();
  } catch (const KernelFault&) {
    // recorded by fault_in_fiber
  } catch (const std::exception& e) {
    if (!b.faulted) {
      b.faulted = true;
      b.fault = std::string("a C++ exception escaped the kernel: ") + e.what();
    }
  }
  b.current->state = FiberState::Done;
  suspend(b);
  std::abort();  // a finished fiber is never resumed
}
}  // namespace

unsigned char* take_stack() {
  {
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    if (!g_pool.empty()) {
      unsigned char* s = g_pool.back();
      g_pool.pop_back();
      return s;
    }
  }
  void* p = mmap(nullptr, kStackBytes + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) std::abort();
  mprotect(p, kGuard, PROT_NONE);
  return static_cast<unsigned char*>(p) + kGuard;
}

void give_stack(unsigned char* stack) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_pool.push_back(stack);
}

#if defined(__x86_64__)
void prepare_fiber(Fiber& f) {
#if MAE_EMU_ASAN
  // a pooled stack keeps the redzones of the frames its last fiber never unwound (it ended in a switch)
  ASAN_UNPOISON_MEMORY_REGION(f.stack, kStackBytes);
#endif
  // Seven words below a 16-byte aligned top, as mae_emu_switch leaves a suspended fiber: MXCSR and
  // the x87 control word, r15 .. rbp, then the return address (the fiber's entry).
  auto top = reinterpret_cast<uintptr_t>(f.stack + kStackBytes) & ~uintptr_t{15};
  auto* w = reinterpret_cast<uint64_t*>(top - 72);
  uint32_t mxcsr = 0;
  uint16_t fpcw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  w[0] = static_cast<uint64_t>(mxcsr) | (static_cast<uint64_t>(fpcw) << 32);
  for (int i = 1; i <= 6; ++i) w[i] = 0;
  w[7] = reinterpret_cast<uint64_t>(&mae_emu_fiber_main);
  f.sp = w;
}

void resume(Block& b, Fiber& f) {
  b.current = &f;
#if MAE_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack, kStackBytes);
  mae_emu_switch(&b.scheduler_sp, f.sp);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  mae_emu_switch(&b.scheduler_sp, f.sp);
#endif
}

void suspend(Block& b) {
  Fiber& f = *b.current;
#if MAE_EMU_ASAN
  void* fake = nullptr;  // a finished fiber's fake stack is dropped (nullptr)
  __sanitizer_start_switch_fiber(f.state == FiberState::Done ? nullptr : &fake, tl_sched_bottom, tl_sched_size);
  mae_emu_switch(&f.sp, b.scheduler_sp);
  entered_fiber(fake);
#else
  mae_emu_switch(&f.sp, b.scheduler_sp);
#endif
}
#else
namespace {
thread_local ucontext_t tl_sched_ctx;
struct UctxFiber {
  ucontext_t ctx;
};
}  // namespace
void prepare_fiber(Fiber& f) {
  auto* u = new UctxFiber();  // freed with the process: the ucontext path is a fallback
  getcontext(&u->ctx);
  u->ctx.uc_stack.ss_sp = f.stack;
  u->ctx.uc_stack.ss_size = kStackBytes;
  u->ctx.uc_link = nullptr;
  makecontext(&u->ctx, reinterpret_cast<void (*)()>(&mae_emu_fiber_main), 0);
  f.sp = u;
}
void resume(Block& b, Fiber& f) {
  b.current = &f;
  swapcontext(&tl_sched_ctx, &static_cast<UctxFiber*>(f.sp)->ctx);
}
void suspend(Block& b) { swapcontext(&static_cast<UctxFiber*>(b.current->sp)->ctx, &tl_sched_ctx); }
#endif

}  // namespace mae_emu
