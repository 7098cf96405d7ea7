// mae_emu_api.h (emulator): the part of the CUDA runtime API (<cuda_runtime_api.h>) that mae-cuda
// uses, for the host C++ build that runs the CUDA sources on the CPU. Names, signatures, enum values
// and error codes are CUDA 12/13's. The implementation (src/api_*.cpp) emulates one or more H100s:
// every operation runs synchronously on the calling thread when it is issued, except on a stream
// that is capturing a graph, where it becomes a graph node that runs at each cudaGraphLaunch.
// Capture rules (legacy-stream conflicts, unsafe calls in global mode, synchronising a capturing
// stream) are enforced and invalidate the capture as real CUDA does. The mae_emu namespace at the end
// is the interface with the device side (kernel launches, allocation lookups) and the tests.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

extern "C++" {

// ---- errors -------------------------------------------------------------------------------------
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorAssert = 710,
  cudaErrorHostMemoryAlreadyRegistered = 712,
  cudaErrorHostMemoryNotRegistered = 713,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotPermitted = 800,
  cudaErrorNotSupported = 801,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureMerge = 902,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorStreamCaptureUnjoined = 904,
  cudaErrorStreamCaptureIsolation = 905,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorCapturedEvent = 907,
  cudaErrorStreamCaptureWrongThread = 908,
  cudaErrorUnknown = 999,
};
typedef cudaError_t cudaError;

// ---- opaque handles -----------------------------------------------------------------------------
struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;
struct CUgraphNode_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
typedef CUgraph_st* cudaGraph_t;
typedef CUgraphExec_st* cudaGraphExec_t;
typedef CUgraphNode_st* cudaGraphNode_t;

// The legacy default stream, also reachable as nullptr (0).
#define cudaStreamLegacy ((cudaStream_t)0x1)

// ---- launch geometry ----------------------------------------------------------------------------
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};

// ---- enums and flags ----------------------------------------------------------------------------
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};
enum cudaStreamCaptureStatus {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2,
};
enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxBlockDimX = 2,
  cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4,
  cudaDevAttrMaxGridDimX = 5,
  cudaDevAttrMaxGridDimY = 6,
  cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventDisableTiming 0x02
#define cudaEventInterprocess 0x04
#define cudaEventWaitDefault 0x00
#define cudaHostRegisterDefault 0x00
#define cudaHostRegisterPortable 0x01
#define cudaHostRegisterMapped 0x02
#define cudaHostRegisterIoMemory 0x04
#define cudaHostRegisterReadOnly 0x08

// The fields of CUDA's cudaDeviceProp that an emulated device fills (the rest of CUDA's struct is
// left out; code reading a missing field does not compile, which is the point).
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  size_t memPitch;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  size_t totalConstMem;
  int major;
  int minor;
  size_t textureAlignment;
  int multiProcessorCount;
  int integrated;
  int canMapHostMemory;
  int concurrentKernels;
  int ECCEnabled;
  int pciBusID;
  int pciDeviceID;
  int pciDomainID;
  int asyncEngineCount;
  int unifiedAddressing;
  int memoryBusWidth;
  int l2CacheSize;
  int persistingL2CacheMaxSize;
  int maxThreadsPerMultiProcessor;
  size_t sharedMemPerMultiprocessor;
  int regsPerMultiprocessor;
  int managedMemory;
  size_t sharedMemPerBlockOptin;
  size_t reservedSharedMemPerBlock;
  int maxBlocksPerMultiProcessor;
};

// ---- errors -------------------------------------------------------------------------------------
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);

// ---- devices ------------------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize();

// ---- memory -------------------------------------------------------------------------------------
cudaError_t cudaMalloc(void** devPtr, size_t size);
template <typename T>
inline cudaError_t cudaMalloc(T** devPtr, size_t size) {
  return cudaMalloc(reinterpret_cast<void**>(devPtr), size);
}
cudaError_t cudaFree(void* devPtr);
cudaError_t cudaMemGetInfo(size_t* free, size_t* total);
cudaError_t cudaHostRegister(void* ptr, size_t size, unsigned int flags);
cudaError_t cudaHostUnregister(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemcpyPeerAsync(void* dst, int dstDevice, const void* src, int srcDevice, size_t count,
                                cudaStream_t stream = 0);
cudaError_t cudaMemset(void* devPtr, int value, size_t count);
cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream = 0);

// ---- streams ------------------------------------------------------------------------------------
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags = 0);

// ---- events -------------------------------------------------------------------------------------
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

// ---- stream capture and graphs ------------------------------------------------------------------
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* pGraph);
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* pCaptureStatus);
cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* pGraphExec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream);
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec);

// ---- kernel attributes --------------------------------------------------------------------------
cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value);
template <typename T>
inline cudaError_t cudaFuncSetAttribute(T* func, cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(func), attr, value);
}

// ---- the emulator's own interface ---------------------------------------------------------------
namespace mae_emu {

// A live cudaMalloc allocation.
struct Allocation {
  const void* base;
  size_t size;
  int device;
  unsigned long long id;  // 1, 2, 3 ... in allocation order
};
// True when [p, p + bytes) lies inside one live allocation (then *out, if given, describes it).
bool find_allocation(const void* p, size_t bytes, Allocation* out);
// Whether p lies in the emulated devices' address space (where cudaMalloc allocates; live or not).
bool device_address(const void* p);
// How many allocations have been freed so far (a cache of live allocations is stale once it changes).
unsigned long long allocation_frees();
// Where the device range [p, p + bytes) lies with respect to the live allocations, in words.
std::string describe_device_range(const void* p, size_t bytes);

// ---- the kernel report's controls (mae-cuda kernel-report sets them through the addon) ----
// The access checks by name, as MAE_EMU_CHECK takes them (memcheck,racecheck,initcheck | all |
// none); false, changing nothing, for a name it does not know. (device_check.cpp)
bool set_check_names(const char* names);
// Where each grid run's performance counters go, one JSON line per run (MAE_EMU_COUNT sets it at
// start; "" or NULL: not counted). (device_count.cpp)
void set_count_file(const char* path);
// Run at most n blocks of each grid: the middle block of each of n equal strata of it
// (MAE_EMU_SAMPLE_BLOCKS sets it at start; 0: every block), a persistent kernel's blocks their first
// and last tiles (MAE_TILES_STEP); the other blocks' and tiles' outputs stay unwritten. (device_grid.cpp)
void set_block_sample(unsigned n);
// Whether cudaMalloc fills new memory with 0xff, to show reads of memory nothing wrote (MAE_EMU_FILL=0
// at start: no). Off, a big model's memory that sampled kernels never touch is never mapped in.
void set_alloc_fill(bool on);

// Provided by the DEVICE side: runs `body` once per CUDA thread of grid x block with `smem` bytes of
// dynamic shared memory; returns cudaSuccess or the error a fault produced (it may describe the
// fault with set_last_error_detail). `flat`: the kernel has no barrier and no warp collective (its
// threads may run as plain calls; reaching one is a fault). `cluster`: the thread block cluster's
// shape (its blocks run together; grid a multiple of it).
cudaError_t run_grid(const char* name, const std::function<void()>& body, dim3 grid, dim3 block, size_t smem,
                     bool flat, dim3 cluster = dim3(1, 1, 1));

// Validates a launch as an H100 would, then runs it through run_grid now, or records it as a graph
// node when `stream` is capturing. `func` (the kernel's address) keys cudaFuncSetAttribute. A
// cluster (cudaLaunchKernelEx's cudaLaunchAttributeClusterDimension) has at most 8 blocks and
// divides the grid. On failure sets the last error (and its detail) and returns it.
cudaError_t launch_kernel(cudaStream_t stream, const void* func, const char* name, dim3 grid, dim3 block,
                          size_t smem, std::function<void()> body, bool flat = false,
                          dim3 cluster = dim3(1, 1, 1));

// What the calling host thread's most recent failure was about, in words ("kernel foo: 96 KiB of
// dynamic shared memory without cudaFuncSetAttribute (limit 48 KiB)"); "" before any failure. Kept
// until the next failure (cudaGetLastError does not clear it).
const char* last_error_detail();
// Sets that text (the device side describes a fault with it before run_grid returns the error).
void set_last_error_detail(const char* detail);

// Tests only, with no other thread using the emulator: frees every allocation, forgets every stream,
// event, graph, capture, host registration and function attribute, re-reads the MAE_EMU_* environment
// variables, and resets the calling thread's device (0), last error, detail and capture mode.
void reset_for_tests();

}  // namespace mae_emu
}  // extern "C++"

// ---- host work in stream order (for libraries loaded at run time, found with dlsym) --------------
// Runs fn(arg) now on the calling thread, in `stream`'s order (a cudaStream_t, or nullptr for the
// legacy stream), or, when the stream is capturing, records it as a graph node that runs fn(arg) at
// every replay. Takes ownership of arg: free_arg(arg) (if not NULL) is called once it is no longer
// needed: right after fn when run now, when the last graph holding the node is destroyed, or at once
// when the call fails. Returns a cudaError_t (cudaSuccess = 0). Used by the NCCL stand-in (emu/nccl).
extern "C" int mae_emu_enqueue_host_work(void* stream, void (*fn)(void*), void* arg, void (*free_arg)(void*));
