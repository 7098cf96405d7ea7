// api_test.cpp (emulator): self-checking test of the CUDA runtime API stand-in (src/api_*.cpp), built
// without the device side: run_grid below just calls the kernel body once per CUDA thread (or returns
// an injected fault). One line per check group; exit code 0 when every check passed, 1 otherwise with
// each failure printed (file:line, the expression, the error codes and the emulator's detail).
//   g++ -std=c++17 -O1 -g -Wall -Wextra -I packages/native/emu/include packages/native/emu/src/api_*.cpp
//       packages/native/emu/test/api_test.cpp -lpthread -o /tmp/api_test && /tmp/api_test
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mae_emu_api.h"

// ---- the device side's part, reduced to a loop ----
namespace {
std::atomic<int> g_inject_fault{0};  // != 0: run_grid returns this error instead of running
}

cudaError_t mae_emu::run_grid(const char*, const std::function<void()>& body, dim3 grid, dim3 block, size_t, bool,
                              dim3) {
  if (g_inject_fault.load() != 0) return static_cast<cudaError_t>(g_inject_fault.load());
  const unsigned long long n = 1ull * grid.x * grid.y * grid.z * block.x * block.y * block.z;
  for (unsigned long long i = 0; i < n; ++i) body();
  return cudaSuccess;
}

// ---- checking ----
namespace {
int g_checks = 0, g_failures = 0, g_group_failures = 0;

void report(bool ok, const char* file, int line, const std::string& what) {
  ++g_checks;
  if (ok) return;
  ++g_failures, ++g_group_failures;
  std::printf("  FAIL %s:%d: %s\n", file, line, what.c_str());
}

std::string err_str(cudaError_t e) { return std::string(cudaGetErrorName(e)) + " (" + std::to_string(e) + ")"; }

#define CHECK(cond) report((cond), __FILE__, __LINE__, #cond)
// Checks that `call` returns `code`; on a mismatch says what came back and the emulator's detail.
#define EXPECT_ERR(call, code)                                                                          \
  do {                                                                                                  \
    const cudaError_t got_ = (call);                                                                    \
    report(got_ == (code), __FILE__, __LINE__,                                                          \
           std::string(#call) + " returned " + err_str(got_) + ", expected " + err_str(code) +          \
               (got_ != cudaSuccess ? std::string(" [detail: ") + mae_emu::last_error_detail() + "]" : "")); \
    (void)cudaGetLastError();                                                                           \
  } while (0)
#define EXPECT_OK(call) EXPECT_ERR(call, cudaSuccess)
#define EXPECT_DETAIL(text) \
  report(std::strstr(mae_emu::last_error_detail(), text) != nullptr, __FILE__, __LINE__, \
         std::string("detail \"") + mae_emu::last_error_detail() + "\" mentions \"" + text + "\"")

void group(const char* name, void (*fn)()) {
  g_group_failures = 0;
  const int before = g_checks;
  mae_emu::reset_for_tests();
  fn();
  std::printf("%s %-26s %d checks\n", g_group_failures ? "FAIL" : "ok  ", name, g_checks - before);
}

void with_env(const char* name, const char* value) {
  if (value) setenv(name, value, 1);
  else unsetenv(name);
}

// Kernels: only their addresses matter (cudaFuncSetAttribute's key).
void kernel_a() {}
void kernel_b() {}
void kernel_big_smem() {}

cudaError_t launch(cudaStream_t s, void (*k)(), const char* name, dim3 grid, dim3 block, size_t smem,
                   std::function<void()> body = [] {}) {
  return mae_emu::launch_kernel(s, reinterpret_cast<const void*>(k), name, grid, block, smem, std::move(body));
}

// ---- groups ----
void test_devices() {
  int n = 0, d = -1;
  EXPECT_OK(cudaGetDeviceCount(&n));
  CHECK(n == 1);
  cudaDeviceProp p;
  EXPECT_OK(cudaGetDeviceProperties(&p, 0));
  CHECK(std::strcmp(p.name, "NVIDIA H100 80GB HBM3 (emulated)") == 0);
  CHECK(p.major == 9 && p.minor == 0 && p.multiProcessorCount == 132 && p.warpSize == 32);
  CHECK(p.sharedMemPerBlock == 48 * 1024 && p.sharedMemPerBlockOptin == 232448 && p.maxThreadsPerBlock == 1024);
  CHECK(p.maxThreadsDim[0] == 1024 && p.maxThreadsDim[1] == 1024 && p.maxThreadsDim[2] == 64);
  CHECK(p.maxGridSize[0] == 2147483647 && p.maxGridSize[1] == 65535 && p.maxGridSize[2] == 65535);
  CHECK(p.totalGlobalMem == 80ull << 30);
  int sms = 0;
  EXPECT_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  CHECK(sms == 132);
  EXPECT_ERR(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
  EXPECT_ERR(cudaSetDevice(1), cudaErrorInvalidDevice);
  EXPECT_ERR(cudaSetDevice(-1), cudaErrorInvalidDevice);
  EXPECT_ERR(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 3), cudaErrorInvalidDevice);
  EXPECT_OK(cudaGetDevice(&d));
  CHECK(d == 0);
  // environment overrides
  with_env("MAE_EMU_DEVICES", "3"), with_env("MAE_EMU_SM_COUNT", "4"), with_env("MAE_EMU_SMEM_OPTIN", "65536");
  mae_emu::reset_for_tests();
  EXPECT_OK(cudaGetDeviceCount(&n));
  CHECK(n == 3);
  EXPECT_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 2));
  CHECK(sms == 4);
  int optin = 0;
  EXPECT_OK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 1));
  CHECK(optin == 65536);
  EXPECT_OK(cudaSetDevice(2));
  EXPECT_OK(cudaGetDevice(&d));
  CHECK(d == 2);
  std::thread([] {  // the current device is per host thread
    int td = -1;
    cudaGetDevice(&td);
    CHECK(td == 0);
    EXPECT_OK(cudaSetDevice(1));
  }).join();
  EXPECT_OK(cudaGetDevice(&d));
  CHECK(d == 2);
  EXPECT_ERR(cudaSetDevice(3), cudaErrorInvalidDevice);
  with_env("MAE_EMU_DEVICES", "9");  // out of range: warned about and ignored
  mae_emu::reset_for_tests();
  EXPECT_OK(cudaGetDeviceCount(&n));
  CHECK(n == 1);
  with_env("MAE_EMU_DEVICES", nullptr), with_env("MAE_EMU_SM_COUNT", nullptr), with_env("MAE_EMU_SMEM_OPTIN", nullptr);
}

void test_memory() {
  void *a = nullptr, *b = nullptr;
  EXPECT_OK(cudaMalloc(&a, 1000));
  EXPECT_OK(cudaMalloc(&b, 10));
  CHECK(a != nullptr && reinterpret_cast<uintptr_t>(a) % 256 == 0 && reinterpret_cast<uintptr_t>(b) % 256 == 0);
  CHECK(static_cast<unsigned char*>(a)[999] == 0xFF);  // poisoned
  mae_emu::Allocation info{};
  CHECK(mae_emu::find_allocation(a, 1000, &info));
  CHECK(info.base == a && info.size == 1000 && info.device == 0 && info.id == 1);
  CHECK(mae_emu::find_allocation(static_cast<char*>(a) + 996, 4, &info));
  CHECK(!mae_emu::find_allocation(static_cast<char*>(a) + 997, 4, nullptr));  // runs past the end
  CHECK(!mae_emu::find_allocation(&info, 1, nullptr));                        // host memory
  CHECK(mae_emu::find_allocation(b, 10, &info) && info.id == 2);
  EXPECT_ERR(cudaFree(static_cast<char*>(a) + 8), cudaErrorInvalidValue);
  EXPECT_DETAIL("8 bytes into allocation #1");
  EXPECT_OK(cudaFree(a));
  CHECK(!mae_emu::find_allocation(a, 1, nullptr));
  EXPECT_ERR(cudaFree(a), cudaErrorInvalidValue);  // twice
  EXPECT_ERR(cudaFree(&info), cudaErrorInvalidValue);
  EXPECT_OK(cudaFree(nullptr));
  void* z = &info;
  EXPECT_OK(cudaMalloc(&z, 0));
  CHECK(z == nullptr);
  EXPECT_ERR(cudaMalloc(static_cast<void**>(nullptr), 4), cudaErrorInvalidValue);
  EXPECT_OK(cudaFree(b));
  // allocations record their device
  with_env("MAE_EMU_DEVICES", "2");
  mae_emu::reset_for_tests();
  EXPECT_OK(cudaSetDevice(1));
  float* f = nullptr;
  EXPECT_OK(cudaMalloc(&f, 64 * sizeof(float)));
  CHECK(mae_emu::find_allocation(f, 256, &info) && info.device == 1);
  EXPECT_OK(cudaFree(f));
  with_env("MAE_EMU_DEVICES", nullptr);
}

void test_oom() {
  with_env("MAE_EMU_MEMORY_BYTES", "1048576");
  mae_emu::reset_for_tests();
  cudaDeviceProp p;
  EXPECT_OK(cudaGetDeviceProperties(&p, 0));
  CHECK(p.totalGlobalMem == 1048576);
  void *a = nullptr, *b = nullptr;
  EXPECT_OK(cudaMalloc(&a, 512 * 1024));
  EXPECT_ERR(cudaMalloc(&b, 600 * 1024), cudaErrorMemoryAllocation);
  EXPECT_DETAIL("MAE_EMU_MEMORY_BYTES");
  CHECK(b == nullptr);
  size_t free_b = 0, total = 0;
  EXPECT_OK(cudaMemGetInfo(&free_b, &total));
  CHECK(total == 1048576 && free_b == 512 * 1024);
  EXPECT_OK(cudaFree(a));
  EXPECT_OK(cudaMalloc(&b, 600 * 1024));
  EXPECT_OK(cudaFree(b));
  with_env("MAE_EMU_MEMORY_BYTES", nullptr);
}

void test_copies() {
  int host[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8] = {};
  int *d = nullptr, *e = nullptr;
  EXPECT_OK(cudaMalloc(&d, sizeof host));
  EXPECT_OK(cudaMalloc(&e, sizeof host));
  cudaStream_t s;
  EXPECT_OK(cudaStreamCreate(&s));
  EXPECT_OK(cudaMemcpyAsync(d, host, sizeof host, cudaMemcpyHostToDevice, s));
  EXPECT_OK(cudaMemcpyAsync(e, d, sizeof host, cudaMemcpyDeviceToDevice, s));
  EXPECT_OK(cudaMemcpy(back, e, sizeof back, cudaMemcpyDeviceToHost));
  CHECK(std::memcmp(host, back, sizeof host) == 0);
  EXPECT_OK(cudaMemsetAsync(e, 0, 4 * sizeof(int), s));
  EXPECT_OK(cudaMemset(e + 4, 0x01, sizeof(int)));
  EXPECT_OK(cudaMemcpyAsync(back, e, sizeof back, cudaMemcpyDefault, nullptr));
  CHECK(back[0] == 0 && back[3] == 0 && back[4] == 0x01010101 && back[5] == 6);
  EXPECT_OK(cudaStreamSynchronize(s));
  EXPECT_OK(cudaStreamSynchronize(nullptr));
  EXPECT_OK(cudaDeviceSynchronize());
  // out of bounds, wrong kind
  EXPECT_ERR(cudaMemcpyAsync(d + 1, host, sizeof host, cudaMemcpyHostToDevice, s), cudaErrorInvalidValue);
  EXPECT_DETAIL("destination");
  EXPECT_ERR(cudaMemcpyAsync(back, host, sizeof host, cudaMemcpyDeviceToHost, s), cudaErrorInvalidValue);
  EXPECT_DETAIL("source");
  EXPECT_ERR(cudaMemsetAsync(e, 0, sizeof host + 1, s), cudaErrorInvalidValue);
  EXPECT_ERR(cudaMemcpy(back, d, 4, static_cast<cudaMemcpyKind>(7)), cudaErrorInvalidMemcpyDirection);
  EXPECT_ERR(cudaMemcpyAsync(d, host, 4, cudaMemcpyHostToDevice, reinterpret_cast<cudaStream_t>(&back)),
             cudaErrorInvalidResourceHandle);
  EXPECT_OK(cudaStreamDestroy(s));
  EXPECT_ERR(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
  // peer copies
  with_env("MAE_EMU_DEVICES", "2");
  mae_emu::reset_for_tests();
  int *p0 = nullptr, *p1 = nullptr;
  EXPECT_OK(cudaMalloc(&p0, sizeof host));
  EXPECT_OK(cudaSetDevice(1));
  EXPECT_OK(cudaMalloc(&p1, sizeof host));
  EXPECT_OK(cudaMemcpy(p0, host, sizeof host, cudaMemcpyHostToDevice));
  EXPECT_OK(cudaMemcpyPeerAsync(p1, 1, p0, 0, sizeof host, nullptr));
  std::memset(back, 0, sizeof back);
  EXPECT_OK(cudaMemcpy(back, p1, sizeof back, cudaMemcpyDeviceToHost));
  CHECK(std::memcmp(host, back, sizeof host) == 0);
  EXPECT_ERR(cudaMemcpyPeerAsync(p1, 0, p0, 0, sizeof host, nullptr), cudaErrorInvalidValue);  // p1 is on device 1
  EXPECT_ERR(cudaMemcpyPeerAsync(p1, 2, p0, 0, sizeof host, nullptr), cudaErrorInvalidDevice);
  with_env("MAE_EMU_DEVICES", nullptr);
}

void test_host_register() {
  std::vector<char> buf(4096);
  EXPECT_OK(cudaHostRegister(buf.data(), buf.size(), cudaHostRegisterPortable));
  EXPECT_ERR(cudaHostRegister(buf.data(), buf.size(), cudaHostRegisterDefault), cudaErrorHostMemoryAlreadyRegistered);
  EXPECT_ERR(cudaHostRegister(buf.data() + 100, 10, cudaHostRegisterDefault), cudaErrorHostMemoryAlreadyRegistered);
  EXPECT_ERR(cudaHostUnregister(buf.data() + 100), cudaErrorHostMemoryNotRegistered);
  EXPECT_OK(cudaHostUnregister(buf.data()));
  EXPECT_ERR(cudaHostUnregister(buf.data()), cudaErrorHostMemoryNotRegistered);
  EXPECT_ERR(cudaHostRegister(nullptr, 10, 0), cudaErrorInvalidValue);
  EXPECT_ERR(cudaHostRegister(buf.data(), 0, 0), cudaErrorInvalidValue);
  EXPECT_ERR(cudaHostRegister(buf.data(), 10, 0x100), cudaErrorInvalidValue);
  EXPECT_OK(cudaHostRegister(buf.data() + 2048, 2048, 0));  // halves are separate ranges
  EXPECT_OK(cudaHostRegister(buf.data(), 2048, 0));
  EXPECT_OK(cudaHostUnregister(buf.data()));
  EXPECT_OK(cudaHostUnregister(buf.data() + 2048));
}

void test_events() {
  cudaEvent_t a, b, c, nt;
  EXPECT_OK(cudaEventCreate(&a));
  EXPECT_OK(cudaEventCreate(&b));
  EXPECT_OK(cudaEventCreate(&c));
  EXPECT_OK(cudaEventCreateWithFlags(&nt, cudaEventDisableTiming));
  EXPECT_OK(cudaEventQuery(c));  // never recorded: an empty set of work
  cudaStream_t s;
  EXPECT_OK(cudaStreamCreate(&s));
  EXPECT_OK(cudaEventRecord(a, s));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_OK(cudaEventRecord(b, nullptr));
  EXPECT_OK(cudaEventSynchronize(b));
  EXPECT_OK(cudaEventQuery(b));
  float ms = -1;
  EXPECT_OK(cudaEventElapsedTime(&ms, a, b));
  CHECK(ms >= 19.0f && ms < 1000.0f);
  EXPECT_ERR(cudaEventElapsedTime(&ms, a, c), cudaErrorInvalidResourceHandle);
  EXPECT_DETAIL("never recorded");
  EXPECT_OK(cudaEventRecord(nt, s));
  EXPECT_ERR(cudaEventElapsedTime(&ms, a, nt), cudaErrorInvalidResourceHandle);
  EXPECT_OK(cudaStreamWaitEvent(s, b, 0));
  EXPECT_OK(cudaEventDestroy(c));
  EXPECT_ERR(cudaEventRecord(c, s), cudaErrorInvalidResourceHandle);
  EXPECT_ERR(cudaEventDestroy(c), cudaErrorInvalidResourceHandle);
  EXPECT_OK(cudaEventDestroy(a));
  EXPECT_OK(cudaEventDestroy(b));
  EXPECT_OK(cudaEventDestroy(nt));
  EXPECT_OK(cudaStreamDestroy(s));
}

void test_capture_replay() {
  int* d = nullptr;
  EXPECT_OK(cudaMalloc(&d, 4 * sizeof(int)));
  EXPECT_OK(cudaMemset(d, 0, 4 * sizeof(int)));
  std::vector<int> pinned(4, 0);
  EXPECT_OK(cudaHostRegister(pinned.data(), 4 * sizeof(int), cudaHostRegisterPortable));
  std::string log;
  cudaStream_t s;
  cudaEvent_t ev;
  EXPECT_OK(cudaStreamCreate(&s));
  EXPECT_OK(cudaEventCreate(&ev));
  EXPECT_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
  EXPECT_OK(cudaStreamIsCapturing(s, &st));
  CHECK(st == cudaStreamCaptureStatusActive);
  EXPECT_OK(launch(s, kernel_a, "kernel_a", dim3(2), dim3(3), 0, [&] { log += 'A', d[0] += 1; }));
  EXPECT_OK(cudaMemcpyAsync(d + 1, d, sizeof(int), cudaMemcpyDeviceToDevice, s));
  EXPECT_OK(cudaMemsetAsync(d + 2, 7, 1, s));
  EXPECT_OK(cudaEventRecord(ev, s));  // a dependency marker, not a node
  EXPECT_OK(launch(s, kernel_b, "kernel_b", dim3(1), dim3(1), 0, [&] { log += 'B', d[3] = d[1] * 10; }));
  EXPECT_OK(cudaMemcpyAsync(pinned.data(), d, 4 * sizeof(int), cudaMemcpyDeviceToHost, s));
  CHECK(log.empty() && pinned[0] == 0);  // nothing ran yet
  EXPECT_ERR(cudaEventQuery(ev), cudaErrorCapturedEvent);
  cudaGraph_t g = nullptr;
  EXPECT_OK(cudaStreamEndCapture(s, &g));
  CHECK(g != nullptr);
  EXPECT_OK(cudaStreamIsCapturing(s, &st));
  CHECK(st == cudaStreamCaptureStatusNone);
  size_t count = 0;
  EXPECT_OK(cudaGraphGetNodes(g, nullptr, &count));
  CHECK(count == 5);
  cudaGraphNode_t nodes[8];
  size_t room = 8;
  EXPECT_OK(cudaGraphGetNodes(g, nodes, &room));
  CHECK(room == 5 && nodes[0] != nullptr && nodes[5] == nullptr);
  cudaGraphExec_t x = nullptr;
  EXPECT_OK(cudaGraphInstantiate(&x, g, 0));
  EXPECT_OK(cudaGraphLaunch(x, s));
  CHECK(log == "AAAAAAB" && pinned[0] == 6 && pinned[1] == 6 && pinned[3] == 60);
  CHECK((pinned[2] & 0xFF) == 7);
  EXPECT_OK(cudaGraphLaunch(x, nullptr));
  CHECK(log == "AAAAAABAAAAAAB" && pinned[0] == 12 && pinned[1] == 12 && pinned[3] == 120);
  EXPECT_OK(cudaStreamSynchronize(s));
  // a graph launched inside another capture is one (child graph) node
  EXPECT_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
  EXPECT_OK(cudaGraphLaunch(x, s));
  EXPECT_OK(cudaMemsetAsync(d, 0, sizeof(int), s));
  cudaGraph_t outer = nullptr;
  EXPECT_OK(cudaStreamEndCapture(s, &outer));
  EXPECT_OK(cudaGraphGetNodes(outer, nullptr, &count));
  CHECK(count == 2);
  cudaGraphExec_t ox = nullptr;
  EXPECT_OK(cudaGraphInstantiate(&ox, outer, 0));
  EXPECT_OK(cudaGraphLaunch(ox, s));
  CHECK(log.size() == 21 && pinned[0] == 18 && d[0] == 0);
  // a fault during a replay is what cudaGraphLaunch returns
  g_inject_fault = cudaErrorIllegalAddress;
  EXPECT_ERR(cudaGraphLaunch(x, s), cudaErrorIllegalAddress);
  g_inject_fault = 0;
  EXPECT_OK(cudaGraphExecDestroy(ox));
  EXPECT_OK(cudaGraphDestroy(outer));
  EXPECT_OK(cudaGraphDestroy(g));  // the exec keeps its nodes
  EXPECT_OK(cudaGraphLaunch(x, s));
  CHECK(pinned[0] == 6);  // the outer graph zeroed d[0] after its replay
  EXPECT_OK(cudaGraphExecDestroy(x));
  EXPECT_ERR(cudaGraphLaunch(x, s), cudaErrorInvalidValue);
  // a replay after its memory was freed: IllegalAddress from the copy node
  EXPECT_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  EXPECT_OK(cudaMemcpyAsync(pinned.data(), d, sizeof(int), cudaMemcpyDeviceToHost, s));
  EXPECT_OK(cudaStreamEndCapture(s, &g));
  EXPECT_OK(cudaGraphInstantiate(&x, g, 0));
  EXPECT_OK(cudaFree(d));
  EXPECT_ERR(cudaGraphLaunch(x, s), cudaErrorIllegalAddress);
  EXPECT_DETAIL("freed since the capture");
  EXPECT_OK(cudaGraphExecDestroy(x));
  EXPECT_OK(cudaGraphDestroy(g));
  EXPECT_OK(cudaHostUnregister(pinned.data()));
  EXPECT_OK(cudaEventDestroy(ev));
  EXPECT_OK(cudaStreamDestroy(s));
}

void test_fork_join() {
  int* d = nullptr;
  EXPECT_OK(cudaMalloc(&d, 4 * sizeof(int)));
  cudaStream_t main_s, side;
  cudaEvent_t fork, join;
  EXPECT_OK(cudaStreamCreate(&main_s));
  EXPECT_OK(cudaStreamCreate(&side));
  EXPECT_OK(cudaEventCreate(&fork));
  EXPECT_OK(cudaEventCreate(&join));
  // joined back: a graph with both streams' work
  EXPECT_OK(cudaStreamBeginCapture(main_s, cudaStreamCaptureModeRelaxed));
  EXPECT_OK(cudaMemsetAsync(d, 1, sizeof(int), main_s));
  EXPECT_OK(cudaEventRecord(fork, main_s));
  EXPECT_OK(cudaStreamWaitEvent(side, fork, 0));
  cudaStreamCaptureStatus st;
  EXPECT_OK(cudaStreamIsCapturing(side, &st));
  CHECK(st == cudaStreamCaptureStatusActive);
  EXPECT_OK(cudaMemsetAsync(d + 1, 2, sizeof(int), side));
  EXPECT_OK(cudaEventRecord(join, side));
  EXPECT_OK(cudaStreamWaitEvent(main_s, join, 0));
  cudaGraph_t g = nullptr;
  EXPECT_ERR(cudaStreamEndCapture(side, &g), cudaErrorStreamCaptureUnmatched);
  EXPECT_ERR(cudaStreamEndCapture(main_s, &g), cudaErrorStreamCaptureInvalidated);  // the mismatch invalidated it
  EXPECT_OK(cudaStreamBeginCapture(main_s, cudaStreamCaptureModeRelaxed));
  EXPECT_OK(cudaMemsetAsync(d, 1, sizeof(int), main_s));
  EXPECT_OK(cudaEventRecord(fork, main_s));
  EXPECT_OK(cudaStreamWaitEvent(side, fork, 0));
  EXPECT_OK(cudaMemsetAsync(d + 1, 2, sizeof(int), side));
  EXPECT_OK(cudaEventRecord(join, side));
  EXPECT_OK(cudaStreamWaitEvent(main_s, join, 0));
  EXPECT_OK(cudaStreamEndCapture(main_s, &g));
  size_t count = 0;
  EXPECT_OK(cudaGraphGetNodes(g, nullptr, &count));
  CHECK(count == 2);
  EXPECT_OK(cudaStreamIsCapturing(side, &st));
  CHECK(st == cudaStreamCaptureStatusNone);  // left the capture with it
  EXPECT_OK(cudaGraphDestroy(g));
  // not joined back: Unjoined
  EXPECT_OK(cudaStreamBeginCapture(main_s, cudaStreamCaptureModeRelaxed));
  EXPECT_OK(cudaEventRecord(fork, main_s));
  EXPECT_OK(cudaStreamWaitEvent(side, fork, 0));
  EXPECT_OK(cudaMemsetAsync(d + 1, 2, sizeof(int), side));
  EXPECT_ERR(cudaStreamEndCapture(main_s, &g), cudaErrorStreamCaptureUnjoined);
  CHECK(g == nullptr);
  EXPECT_OK(cudaMemsetAsync(d + 1, 2, sizeof(int), side));  // side is an ordinary stream again
  EXPECT_ERR(cudaEventQuery(fork), cudaErrorCapturedEvent);  // last recorded in a capture
  EXPECT_OK(cudaEventRecord(fork, main_s));
  EXPECT_OK(cudaEventQuery(fork));
  EXPECT_OK(cudaFree(d));
}

void test_launch_validation() {
  cudaStream_t s;
  EXPECT_OK(cudaStreamCreate(&s));
  int runs = 0;
  auto count = [&] { ++runs; };
  EXPECT_OK(launch(s, kernel_a, "kernel_a", dim3(2, 2), dim3(32, 4), 0, count));
  CHECK(runs == 512);
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1), dim3(1025), 0, count), cudaErrorInvalidConfiguration);
  EXPECT_DETAIL("kernel kernel_a: block (1025, 1, 1) has 1025 threads (limit 1024)");
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1), dim3(1, 1, 65), 0, count), cudaErrorInvalidConfiguration);
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(0), dim3(32), 0, count), cudaErrorInvalidConfiguration);
  EXPECT_DETAIL("zero dimension");
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1), dim3(0, 1), 0, count), cudaErrorInvalidConfiguration);
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1, 65536), dim3(32), 0, count), cudaErrorInvalidConfiguration);
  EXPECT_DETAIL("grid.y = 65536 exceeds 65535");
  CHECK(runs == 512);
  // dynamic shared memory
  EXPECT_OK(launch(s, kernel_big_smem, "big", dim3(1), dim3(1), 48 * 1024, count));
  EXPECT_ERR(launch(s, kernel_big_smem, "big", dim3(1), dim3(1), 64 * 1024, count), cudaErrorInvalidValue);
  EXPECT_DETAIL("kernel big: 64 KiB of dynamic shared memory without cudaFuncSetAttribute (limit 48 KiB)");
  EXPECT_OK(cudaFuncSetAttribute(kernel_big_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
  EXPECT_OK(launch(s, kernel_big_smem, "big", dim3(1), dim3(1), 64 * 1024, count));
  EXPECT_ERR(launch(s, kernel_big_smem, "big", dim3(1), dim3(1), 96 * 1024, count), cudaErrorInvalidValue);
  EXPECT_DETAIL("above the 64 KiB cudaFuncSetAttribute allowed");
  EXPECT_ERR(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel_big_smem),
                                  cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024),
             cudaErrorInvalidValue);
  EXPECT_OK(cudaFuncSetAttribute(kernel_big_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 232448));
  EXPECT_OK(launch(s, kernel_big_smem, "big", dim3(1), dim3(1), 232448, count));
  EXPECT_ERR(launch(s, kernel_big_smem, "big", dim3(1), dim3(1), 228 * 1024, count), cudaErrorInvalidValue);
  EXPECT_DETAIL("opt-in limit (227 KiB)");
  CHECK(runs == 515);
  // a fault: the error comes back, with a detail naming the kernel
  g_inject_fault = cudaErrorIllegalAddress;
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1), dim3(1), 0, count), cudaErrorIllegalAddress);
  EXPECT_DETAIL("kernel kernel_a: cudaErrorIllegalAddress");
  g_inject_fault = 0;
  // the opt-in limit follows MAE_EMU_SMEM_OPTIN; a stream of another device is an invalid handle
  with_env("MAE_EMU_SMEM_OPTIN", "65536"), with_env("MAE_EMU_DEVICES", "2");
  mae_emu::reset_for_tests();
  EXPECT_ERR(cudaFuncSetAttribute(kernel_big_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 96 * 1024),
             cudaErrorInvalidValue);
  EXPECT_OK(cudaStreamCreate(&s));
  EXPECT_OK(cudaSetDevice(1));
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1), dim3(1), 0, count), cudaErrorInvalidResourceHandle);
  EXPECT_OK(launch(nullptr, kernel_a, "kernel_a", dim3(1), dim3(1), 0, count));
  with_env("MAE_EMU_SMEM_OPTIN", nullptr), with_env("MAE_EMU_DEVICES", nullptr);
}

// Begins a capture on a new stream in `mode`; the caller ends it.
cudaStream_t begin(cudaStreamCaptureMode mode) {
  cudaStream_t s = nullptr;
  EXPECT_OK(cudaStreamCreate(&s));
  EXPECT_OK(cudaStreamBeginCapture(s, mode));
  return s;
}

void expect_invalidated(cudaStream_t s) {
  cudaStreamCaptureStatus st;
  EXPECT_OK(cudaStreamIsCapturing(s, &st));
  CHECK(st == cudaStreamCaptureStatusInvalidated);
  EXPECT_ERR(cudaMemsetAsync(nullptr, 0, 0, s), cudaSuccess);  // count 0: a no-op everywhere
  cudaGraph_t g = reinterpret_cast<cudaGraph_t>(&st);
  EXPECT_ERR(cudaStreamEndCapture(s, &g), cudaErrorStreamCaptureInvalidated);
  CHECK(g == nullptr);
}

void test_sync_in_capture() {
  void* d = nullptr;
  EXPECT_OK(cudaMalloc(&d, 256));
  int host = 0;
  EXPECT_ERR(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal), cudaErrorStreamCaptureUnsupported);
  cudaStream_t s = begin(cudaStreamCaptureModeGlobal);
  EXPECT_ERR(cudaStreamSynchronize(s), cudaErrorStreamCaptureUnsupported);
  EXPECT_ERR(cudaMemsetAsync(d, 0, 4, s), cudaErrorStreamCaptureInvalidated);
  expect_invalidated(s);
  cudaGraph_t g = nullptr;
  EXPECT_ERR(cudaStreamEndCapture(s, &g), cudaErrorIllegalState);  // no longer capturing
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_ERR(cudaDeviceSynchronize(), cudaErrorStreamCaptureUnsupported);
  expect_invalidated(s);
  s = begin(cudaStreamCaptureModeGlobal);
  void* more = nullptr;
  EXPECT_ERR(cudaMalloc(&more, 64), cudaErrorStreamCaptureUnsupported);
  EXPECT_DETAIL("global mode");
  expect_invalidated(s);
  s = begin(cudaStreamCaptureModeGlobal);
  EXPECT_ERR(cudaFree(d), cudaErrorStreamCaptureUnsupported);
  expect_invalidated(s);
  s = begin(cudaStreamCaptureModeGlobal);
  EXPECT_ERR(cudaMemcpy(&host, d, 4, cudaMemcpyDeviceToHost), cudaErrorStreamCaptureUnsupported);
  expect_invalidated(s);
  s = begin(cudaStreamCaptureModeGlobal);  // another thread's unsafe call, in its default (global) mode
  std::thread([&] { EXPECT_ERR(cudaMalloc(&more, 64), cudaErrorStreamCaptureUnsupported); }).join();
  expect_invalidated(s);
  // pageable host memory cannot be captured
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_ERR(cudaMemcpyAsync(d, &host, 4, cudaMemcpyHostToDevice, s), cudaErrorStreamCaptureUnsupported);
  expect_invalidated(s);
  // relaxed mode: cudaMalloc / cudaFree are allowed; the legacy stream is not
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_OK(cudaMalloc(&more, 64));
  EXPECT_OK(cudaFree(more));
  EXPECT_OK(cudaMemsetAsync(d, 0, 4, s));
  EXPECT_OK(cudaStreamEndCapture(s, &g));
  EXPECT_OK(cudaGraphDestroy(g));
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_ERR(cudaMemcpy(&host, d, 4, cudaMemcpyDeviceToHost), cudaErrorStreamCaptureImplicit);
  expect_invalidated(s);
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_ERR(launch(nullptr, kernel_a, "kernel_a", dim3(1), dim3(1), 0), cudaErrorStreamCaptureImplicit);
  EXPECT_DETAIL("legacy (NULL) stream");
  expect_invalidated(s);
  // a failed call on a capturing stream invalidates its capture
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_ERR(launch(s, kernel_a, "kernel_a", dim3(1), dim3(1025), 0), cudaErrorInvalidConfiguration);
  expect_invalidated(s);
  s = begin(cudaStreamCaptureModeRelaxed);
  EXPECT_ERR(cudaMemsetAsync(d, 0, 257, s), cudaErrorInvalidValue);
  expect_invalidated(s);
  // a non-blocking stream does not conflict with the legacy stream
  cudaStream_t nb;
  EXPECT_OK(cudaStreamCreateWithFlags(&nb, cudaStreamNonBlocking));
  EXPECT_OK(cudaStreamBeginCapture(nb, cudaStreamCaptureModeRelaxed));
  EXPECT_OK(cudaMemsetAsync(d, 0, 4, nullptr));
  EXPECT_OK(cudaStreamEndCapture(nb, &g));
  EXPECT_OK(cudaGraphDestroy(g));
  // thread-local captures do not constrain other threads; relaxed thread mode lifts the rule
  s = begin(cudaStreamCaptureModeThreadLocal);
  std::thread([&] {
    void* p = nullptr;
    EXPECT_OK(cudaMalloc(&p, 64));
    EXPECT_OK(cudaFree(p));
  }).join();
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  EXPECT_OK(cudaThreadExchangeStreamCaptureMode(&mode));
  CHECK(mode == cudaStreamCaptureModeGlobal);
  EXPECT_OK(cudaMalloc(&more, 64));
  EXPECT_OK(cudaThreadExchangeStreamCaptureMode(&mode));
  EXPECT_ERR(cudaFree(more), cudaErrorStreamCaptureUnsupported);
  expect_invalidated(s);
  EXPECT_OK(cudaFree(more));
  EXPECT_OK(cudaFree(d));
}

void test_last_error() {
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaSetDevice(5) == cudaErrorInvalidDevice);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidDevice);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidDevice);  // peek does not clear
  int n = 0;
  CHECK(cudaGetDeviceCount(&n) == cudaSuccess);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidDevice);  // a success does not clear it either
  CHECK(cudaGetLastError() == cudaErrorInvalidDevice);
  CHECK(cudaGetLastError() == cudaSuccess);  // get clears
  CHECK(std::strstr(mae_emu::last_error_detail(), "device 5") != nullptr);  // the detail stays
  std::thread([] { CHECK(cudaPeekAtLastError() == cudaSuccess); }).join();  // per thread
  CHECK(std::strcmp(cudaGetErrorName(cudaErrorStreamCaptureInvalidated), "cudaErrorStreamCaptureInvalidated") == 0);
  CHECK(std::strcmp(cudaGetErrorString(cudaErrorMemoryAllocation), "out of memory") == 0);
  CHECK(std::strcmp(cudaGetErrorString(cudaErrorInvalidConfiguration), "invalid configuration argument") == 0);
  CHECK(std::strcmp(cudaGetErrorName(static_cast<cudaError_t>(12345)), "cudaErrorUnknown") == 0);
}

void test_threads() {
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        void* p = nullptr;
        cudaStream_t s = nullptr;
        if (cudaMalloc(&p, 1024) != cudaSuccess || cudaStreamCreate(&s) != cudaSuccess ||
            cudaMemsetAsync(p, i, 1024, s) != cudaSuccess || static_cast<unsigned char*>(p)[1023] != (i & 0xFF) ||
            cudaStreamDestroy(s) != cudaSuccess || cudaFree(p) != cudaSuccess)
          ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(failures == 0);
  size_t free_b = 0, total = 0;
  EXPECT_OK(cudaMemGetInfo(&free_b, &total));
  CHECK(free_b == total);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  group("devices", test_devices);
  group("malloc/free/registry", test_memory);
  group("out-of-memory cap", test_oom);
  group("copies and memsets", test_copies);
  group("host register", test_host_register);
  group("events", test_events);
  group("capture and replay", test_capture_replay);
  group("fork/join capture", test_fork_join);
  group("launch validation", test_launch_validation);
  group("sync during capture", test_sync_in_capture);
  group("last error", test_last_error);
  group("threads", test_threads);
  if (g_failures) {
    std::printf("api_test: %d of %d checks FAILED\n", g_failures, g_checks);
    return 1;
  }
  std::printf("api_test: all %d checks passed\n", g_checks);
  return 0;
}
