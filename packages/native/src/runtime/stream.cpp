// stream.cpp: streams and events. CUDA streams/events are created on their device (blocking
// streams, so they order with the legacy default stream); the CPU "stream" is a synchronous queue
// whose events record a steady-clock timestamp.
#include <chrono>

#include "runtime_impl.h"

namespace {

double now_ms() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(clock::now().time_since_epoch()).count();
}

}  // namespace

extern "C" {

mae_status mae_stream_create(mae_stream** out, mae_device device) {
  const char* fn = "mae_stream_create";
  if (out == nullptr) return mae_fail("%s: out is NULL", fn);
  *out = nullptr;
  if (mae_rt::check_device(device, fn) != MAE_OK) return MAE_ERROR;
  auto* s = new mae_stream();
  s->device = device;
#ifdef MAE_WITH_CUDA
  if (device.type == MAE_DEVICE_CUDA) {
    mae_rt::DeviceGuard guard(device.index);
    cudaStream_t handle = nullptr;
    cudaError_t err = guard.status() != cudaSuccess ? guard.status() : cudaStreamCreate(&handle);
    if (err != cudaSuccess) {
      delete s;
      return mae_rt::cuda_fail(err, fn, "cudaStreamCreate");
    }
    s->handle = handle;
  }
#endif
  *out = s;
  return MAE_OK;
}

void mae_stream_destroy(mae_stream* s) {
  if (s == nullptr) return;
#ifdef MAE_WITH_CUDA
  if (s->handle != nullptr) {
    mae_rt::DeviceGuard guard(s->device.index);
    mae_rt::release_workspace(s->device.index, s->handle);
    if (cudaStreamDestroy(static_cast<cudaStream_t>(s->handle)) != cudaSuccess) (void)cudaGetLastError();
  }
#endif
  delete s;
}

mae_status mae_stream_synchronize(mae_stream* s) {
#ifdef MAE_WITH_CUDA
  if (s == nullptr) {  // the current device's legacy default stream
    if (mae_cuda_device_count() == 0) return MAE_OK;
    cudaError_t err = cudaStreamSynchronize(nullptr);
    return err == cudaSuccess ? MAE_OK : mae_rt::cuda_fail(err, "mae_stream_synchronize", "cudaStreamSynchronize");
  }
  if (s->device.type == MAE_DEVICE_CUDA) {
    mae_rt::DeviceGuard guard(s->device.index);
    cudaError_t err = cudaStreamSynchronize(static_cast<cudaStream_t>(s->handle));
    if (err != cudaSuccess) {
      return mae_fail("mae_stream_synchronize: work on %s's stream failed: %s (%s)",
                      mae_rt::device_str(s->device).c_str(), cudaGetErrorName(err), cudaGetErrorString(err));
    }
  }
#else
  (void)s;
#endif
  return MAE_OK;
}

mae_device mae_stream_device(const mae_stream* s) { return s ? s->device : mae_device{MAE_DEVICE_CPU, 0}; }

void* mae_stream_cuda_handle(const mae_stream* s) { return s ? s->handle : nullptr; }

mae_status mae_event_create(mae_event** out, mae_device device) {
  const char* fn = "mae_event_create";
  if (out == nullptr) return mae_fail("%s: out is NULL", fn);
  *out = nullptr;
  if (mae_rt::check_device(device, fn) != MAE_OK) return MAE_ERROR;
  auto* e = new mae_event();
  e->device = device;
#ifdef MAE_WITH_CUDA
  if (device.type == MAE_DEVICE_CUDA) {
    mae_rt::DeviceGuard guard(device.index);
    cudaEvent_t handle = nullptr;
    cudaError_t err = guard.status() != cudaSuccess ? guard.status() : cudaEventCreate(&handle);
    if (err != cudaSuccess) {
      delete e;
      return mae_rt::cuda_fail(err, fn, "cudaEventCreate");
    }
    e->handle = handle;
  }
#endif
  *out = e;
  return MAE_OK;
}

void mae_event_destroy(mae_event* e) {
  if (e == nullptr) return;
#ifdef MAE_WITH_CUDA
  if (e->handle != nullptr) {
    mae_rt::DeviceGuard guard(e->device.index);
    if (cudaEventDestroy(static_cast<cudaEvent_t>(e->handle)) != cudaSuccess) (void)cudaGetLastError();
  }
#endif
  delete e;
}

mae_status mae_event_record(mae_event* e, mae_stream* s) {
  const char* fn = "mae_event_record";
  if (e == nullptr) return mae_fail("%s: event is NULL", fn);
  if (s != nullptr && !mae_rt::same_device(s->device, e->device)) {
    return mae_fail("%s: the event is on %s but the stream is on %s", fn, mae_rt::device_str(e->device).c_str(),
                    mae_rt::device_str(s->device).c_str());
  }
  if (e->device.type == MAE_DEVICE_CPU) {
    e->cpu_ms = now_ms();
    e->recorded = true;
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  mae_rt::DeviceGuard guard(e->device.index);
  cudaError_t err = cudaEventRecord(static_cast<cudaEvent_t>(e->handle), static_cast<cudaStream_t>(mae_launch_stream(s, e->device.index)));
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaEventRecord");
  e->recorded = true;
  return MAE_OK;
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_event_synchronize(mae_event* e) {
  if (e == nullptr) return mae_fail("mae_event_synchronize: event is NULL");
#ifdef MAE_WITH_CUDA
  if (e->handle != nullptr) {
    cudaError_t err = cudaEventSynchronize(static_cast<cudaEvent_t>(e->handle));
    if (err != cudaSuccess) return mae_rt::cuda_fail(err, "mae_event_synchronize", "cudaEventSynchronize");
  }
#endif
  return MAE_OK;
}

mae_status mae_event_query(mae_event* e, int* done) {
  if (e == nullptr || done == nullptr) return mae_fail("mae_event_query: %s is NULL", e ? "done" : "event");
  *done = 1;
#ifdef MAE_WITH_CUDA
  if (e->handle != nullptr) {
    cudaError_t err = cudaEventQuery(static_cast<cudaEvent_t>(e->handle));
    if (err == cudaErrorNotReady) {
      (void)cudaGetLastError();
      *done = 0;
    } else if (err != cudaSuccess) {
      return mae_rt::cuda_fail(err, "mae_event_query", "cudaEventQuery");
    }
  }
#endif
  return MAE_OK;
}

mae_status mae_stream_wait_event(mae_stream* s, mae_event* e) {
  const char* fn = "mae_stream_wait_event";
  if (e == nullptr) return mae_fail("%s: event is NULL", fn);
  if (e->device.type == MAE_DEVICE_CPU) return MAE_OK;  // CPU events are complete once recorded
  if (s != nullptr && s->device.type == MAE_DEVICE_CPU) return mae_event_synchronize(e);
#ifdef MAE_WITH_CUDA
  // a NULL stream means the device's current stream, as in mae_event_record (not the legacy one)
  const int device = s != nullptr ? s->device.index : e->device.index;
  mae_rt::DeviceGuard guard(device);
  if (guard.status() != cudaSuccess) return mae_rt::cuda_fail(guard.status(), fn, "cudaSetDevice");
  cudaError_t err = cudaStreamWaitEvent(static_cast<cudaStream_t>(mae_launch_stream(s, device)),
                                        static_cast<cudaEvent_t>(e->handle), 0);
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaStreamWaitEvent");
#endif
  return MAE_OK;
}

mae_status mae_event_elapsed_ms(float* ms, mae_event* start, mae_event* end) {
  const char* fn = "mae_event_elapsed_ms";
  if (ms == nullptr || start == nullptr || end == nullptr) return mae_fail("%s: a NULL argument", fn);
  if (!start->recorded || !end->recorded) {
    return mae_fail("%s: the %s event was never recorded", fn, start->recorded ? "end" : "start");
  }
  if (!mae_rt::same_device(start->device, end->device)) {
    return mae_fail("%s: the start event is on %s but the end event is on %s", fn,
                    mae_rt::device_str(start->device).c_str(), mae_rt::device_str(end->device).c_str());
  }
  if (start->device.type == MAE_DEVICE_CPU) {
    *ms = static_cast<float>(end->cpu_ms - start->cpu_ms);
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  cudaError_t err =
      cudaEventElapsedTime(ms, static_cast<cudaEvent_t>(start->handle), static_cast<cudaEvent_t>(end->handle));
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaEventElapsedTime");
  return MAE_OK;
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

}  // extern "C"
