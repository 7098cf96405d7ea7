// module.cpp: the addon's entry point: defines the classes, exports the functions and fills
// exports.ops through the generated RegisterGeneratedOps.
#include "addon.h"
#include "emu.h"
#include "info.h"
#include "jpeg.h"
#include "native_graph.h"
#include "native_nccl.h"
#include "native_stream.h"
#include "native_tensor.h"
#include "process.h"
#include "resample.h"
#include "util.h"

using namespace mae_addon;

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function tensor = NativeTensor::DefineClass(env);
  Napi::Function stream = NativeStream::DefineClass(env);
  Napi::Function event = NativeEvent::DefineClass(env);
  data->tensor_ctor = Napi::Persistent(tensor);
  data->stream_ctor = Napi::Persistent(stream);
  data->event_ctor = Napi::Persistent(event);

  exports.Set("NativeTensor", tensor);
  exports.Set("NativeStream", stream);
  exports.Set("NativeEvent", event);
  exports.Set("tensorCreate", Napi::Function::New<TensorCreate>(env, "tensorCreate"));
  exports.Set("streamCreate", Napi::Function::New<StreamCreate>(env, "streamCreate"));
  exports.Set("eventCreate", Napi::Function::New<EventCreate>(env, "eventCreate"));
  exports.Set("buildInfo", Napi::Function::New<BuildInfo>(env, "buildInfo"));
  exports.Set("cpuIsaError", Napi::Function::New<CpuIsaError>(env, "cpuIsaError"));
  exports.Set("cpuPeakGflops", Napi::Function::New<CpuPeakGflops>(env, "cpuPeakGflops"));
  exports.Set("cudaDevices", Napi::Function::New<CudaDevices>(env, "cudaDevices"));
  exports.Set("setCpuThreads", Napi::Function::New<SetCpuThreads>(env, "setCpuThreads"));
  exports.Set("setParentDeathSignal", Napi::Function::New<SetParentDeathSignal>(env, "setParentDeathSignal"));
  exports.Set("memoryStats", Napi::Function::New<MemoryStats>(env, "memoryStats"));
  exports.Set("resetPeakMemory", Napi::Function::New<ResetPeakMemory>(env, "resetPeakMemory"));
  exports.Set("hostPin", Napi::Function::New<HostPin>(env, "hostPin"));
  exports.Set("hostUnpin", Napi::Function::New<HostUnpin>(env, "hostUnpin"));
  exports.Set("emptyCache", Napi::Function::New<EmptyCache>(env, "emptyCache"));
  exports.Set("ncclProbe", Napi::Function::New<NcclProbe>(env, "ncclProbe"));
  exports.Set("setCurrentStream", Napi::Function::New<SetCurrentStream>(env, "setCurrentStream"));
  exports.Set("graphCaptureBegin", Napi::Function::New<GraphCaptureBegin>(env, "graphCaptureBegin"));
  exports.Set("graphCaptureEnd", Napi::Function::New<GraphCaptureEnd>(env, "graphCaptureEnd"));
  exports.Set("graphLaunch", Napi::Function::New<GraphLaunch>(env, "graphLaunch"));
  exports.Set("graphNumNodes", Napi::Function::New<GraphNumNodes>(env, "graphNumNodes"));
  exports.Set("graphDestroy", Napi::Function::New<GraphDestroy>(env, "graphDestroy"));
  exports.Set("ncclLoad", Napi::Function::New<NcclLoad>(env, "ncclLoad"));
  exports.Set("ncclUniqueId", Napi::Function::New<NcclUniqueId>(env, "ncclUniqueId"));
  exports.Set("ncclErrorString", Napi::Function::New<NcclErrorString>(env, "ncclErrorString"));
  exports.Set("ncclCommInit", Napi::Function::New<NcclCommInit>(env, "ncclCommInit"));
  exports.Set("ncclCommDestroy", Napi::Function::New<NcclCommDestroy>(env, "ncclCommDestroy"));
  exports.Set("ncclCommAbort", Napi::Function::New<NcclCommAbort>(env, "ncclCommAbort"));
  exports.Set("ncclCommAsyncError", Napi::Function::New<NcclCommAsyncError>(env, "ncclCommAsyncError"));
  exports.Set("ncclAllReduce", Napi::Function::New<NcclAllReduce>(env, "ncclAllReduce"));
  exports.Set("ncclBroadcast", Napi::Function::New<NcclBroadcast>(env, "ncclBroadcast"));
  exports.Set("ncclGroupStart", Napi::Function::New<NcclGroupStart>(env, "ncclGroupStart"));
  exports.Set("ncclGroupEnd", Napi::Function::New<NcclGroupEnd>(env, "ncclGroupEnd"));
  exports.Set("resizeBicubicU8", Napi::Function::New<ResizeBicubicU8>(env, "resizeBicubicU8"));
  exports.Set("cropResizeBicubicU8", Napi::Function::New<CropResizeBicubicU8>(env, "cropResizeBicubicU8"));
  exports.Set("jpegAvailable", Napi::Function::New<JpegAvailable>(env, "jpegAvailable"));
  exports.Set("jpegHeader", Napi::Function::New<JpegHeader>(env, "jpegHeader"));
  exports.Set("jpegDecodeRegion", Napi::Function::New<JpegDecodeRegion>(env, "jpegDecodeRegion"));

#ifdef MAE_CUDA_EMULATOR
  exports.Set("emuConfigure", Napi::Function::New<EmuConfigure>(env, "emuConfigure"));
#endif

  Napi::Object ops = Napi::Object::New(env);
  RegisterGeneratedOps(env, ops);
  exports.Set("ops", ops);
  return exports;
}

NODE_API_MODULE(mae_native, InitAddon)
