// copy.cpp: host<->device copies, tensor-to-tensor copies and byte fills. On the CPU everything is
// synchronous. On CUDA the work is enqueued on the given stream, or, with stream == NULL, on the
// device's legacy default stream followed by a synchronize (the call returns when it is done).
#include <cstring>

#include "runtime_impl.h"

namespace {

// Checks that a stream (if any) lives on device d.
mae_status check_stream(const char* fn, const mae_stream* s, mae_device d, const char* what) {
  if (s == nullptr || mae_rt::same_device(s->device, d)) return MAE_OK;
  return mae_fail("%s: the stream is on %s but %s is on %s", fn, mae_rt::device_str(s->device).c_str(), what,
                  mae_rt::device_str(d).c_str());
}

mae_status check_nbytes(const char* fn, const mae_tensor* t, size_t nbytes) {
  if (nbytes == mae_tensor_nbytes(t)) return MAE_OK;
  return mae_fail("%s: %zu bytes given but the tensor %s %s on %s has %zu bytes", fn, nbytes,
                  mae_dtype_name(t->dtype), mae_shape_str(t, 0), mae_rt::device_str(t->device).c_str(),
                  mae_tensor_nbytes(t));
}

#ifdef MAE_WITH_CUDA
// The stream a NULL-stream call runs on, and whether the call must wait for it: with a current
// stream set (mae_set_current_stream), the work goes there; host copies still wait, device-side
// work waits too unless the stream is capturing a graph (then nothing may wait, and host copies
// cannot be recorded).
mae_status resolve_stream(const char* fn, int device, bool host, mae_stream*& stream, bool& wait) {
  wait = stream == nullptr;
  if (stream != nullptr) return MAE_OK;
  stream = mae_rt::current_stream(device);
  if (mae_rt::is_capture_stream(stream)) {
    if (host)
      return mae_fail("%s: copies between host and cuda:%d cannot be captured in a CUDA graph; make the data "
                      "resident before capturing", fn, device);
    wait = false;
  }
  return MAE_OK;
}

// Runs cudaMemcpyAsync on stream (or the current stream + synchronize when stream is NULL).
mae_status cuda_copy(const char* fn, int device, void* dst, const void* src, size_t n, cudaMemcpyKind kind,
                     mae_stream* stream) {
  mae_rt::DeviceGuard guard(device);
  if (guard.status() != cudaSuccess) return mae_rt::cuda_fail(guard.status(), fn, "cudaSetDevice");
  bool wait = false;
  if (resolve_stream(fn, device, kind != cudaMemcpyDeviceToDevice, stream, wait) != MAE_OK) return MAE_ERROR;
  cudaStream_t s = stream ? static_cast<cudaStream_t>(stream->handle) : nullptr;
  cudaError_t err = cudaMemcpyAsync(dst, src, n, kind, s);
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaMemcpyAsync");
  if (wait && (err = cudaStreamSynchronize(s)) != cudaSuccess)
    return mae_rt::cuda_fail(err, fn, "cudaStreamSynchronize");
  return MAE_OK;
}
#endif

}  // namespace

extern "C" {

mae_status mae_tensor_copy_from_host(mae_tensor* dst, const void* src, size_t nbytes, mae_stream* stream) {
  const char* fn = "mae_tensor_copy_from_host";
  if (dst == nullptr) return mae_fail("%s: dst is NULL", fn);
  if (check_nbytes(fn, dst, nbytes) != MAE_OK || check_stream(fn, stream, dst->device, "the tensor") != MAE_OK) {
    return MAE_ERROR;
  }
  if (nbytes == 0) return MAE_OK;
  if (src == nullptr) return mae_fail("%s: src is NULL", fn);
  if (dst->device.type == MAE_DEVICE_CPU) {
    std::memcpy(mae_tensor_data(dst), src, nbytes);
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  return cuda_copy(fn, dst->device.index, mae_tensor_data(dst), src, nbytes, cudaMemcpyHostToDevice, stream);
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_tensor_copy_to_host(void* dst, const mae_tensor* src, size_t nbytes, mae_stream* stream) {
  const char* fn = "mae_tensor_copy_to_host";
  if (src == nullptr) return mae_fail("%s: src is NULL", fn);
  if (check_nbytes(fn, src, nbytes) != MAE_OK || check_stream(fn, stream, src->device, "the tensor") != MAE_OK) {
    return MAE_ERROR;
  }
  if (nbytes == 0) return MAE_OK;
  if (dst == nullptr) return mae_fail("%s: dst is NULL", fn);
  if (src->device.type == MAE_DEVICE_CPU) {
    std::memcpy(dst, mae_tensor_data(src), nbytes);
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  return cuda_copy(fn, src->device.index, dst, mae_tensor_data(src), nbytes, cudaMemcpyDeviceToHost, stream);
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_tensor_copy(mae_tensor* dst, const mae_tensor* src, mae_stream* stream) {
  const char* fn = "mae_tensor_copy";
  if (dst == nullptr || src == nullptr) return mae_fail("%s: %s is NULL", fn, dst == nullptr ? "dst" : "src");
  if (dst->dtype != src->dtype || dst->numel != src->numel) {
    return mae_fail("%s: dst %s %s and src %s %s differ in dtype or element count", fn, mae_dtype_name(dst->dtype),
                    mae_shape_str(dst, 0), mae_dtype_name(src->dtype), mae_shape_str(src, 1));
  }
  const size_t n = mae_tensor_nbytes(src);
  const bool dst_cuda = dst->device.type == MAE_DEVICE_CUDA;
  const bool src_cuda = src->device.type == MAE_DEVICE_CUDA;
  if (stream != nullptr && !mae_rt::same_device(stream->device, dst->device) &&
      !mae_rt::same_device(stream->device, src->device)) {
    return mae_fail("%s: the stream is on %s but the copy is from %s to %s", fn,
                    mae_rt::device_str(stream->device).c_str(), mae_rt::device_str(src->device).c_str(),
                    mae_rt::device_str(dst->device).c_str());
  }
  if (n == 0) return MAE_OK;
  if (!dst_cuda && !src_cuda) {
    std::memmove(mae_tensor_data(dst), mae_tensor_data(src), n);
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  if (stream != nullptr && stream->device.type == MAE_DEVICE_CPU) stream = nullptr;  // CPU queue: synchronous
  if (dst_cuda && src_cuda && dst->device.index != src->device.index) {
    const int dev = stream ? stream->device.index : dst->device.index;
    mae_rt::DeviceGuard guard(dev);
    cudaStream_t s = stream ? static_cast<cudaStream_t>(stream->handle) : nullptr;
    cudaError_t err =
        cudaMemcpyPeerAsync(mae_tensor_data(dst), dst->device.index, mae_tensor_data(src), src->device.index, n, s);
    if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaMemcpyPeerAsync");
    if (stream == nullptr && (err = cudaStreamSynchronize(nullptr)) != cudaSuccess) {
      return mae_rt::cuda_fail(err, fn, "cudaStreamSynchronize");
    }
    return MAE_OK;
  }
  const cudaMemcpyKind kind = dst_cuda && src_cuda ? cudaMemcpyDeviceToDevice
                              : dst_cuda          ? cudaMemcpyHostToDevice
                                                  : cudaMemcpyDeviceToHost;
  const int dev = dst_cuda ? dst->device.index : src->device.index;
  return cuda_copy(fn, dev, mae_tensor_data(dst), mae_tensor_data(src), n, kind, stream);
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

mae_status mae_tensor_fill_bytes(mae_tensor* t, uint8_t byte, mae_stream* stream) {
  const char* fn = "mae_tensor_fill_bytes";
  if (t == nullptr) return mae_fail("%s: tensor is NULL", fn);
  if (check_stream(fn, stream, t->device, "the tensor") != MAE_OK) return MAE_ERROR;
  const size_t n = mae_tensor_nbytes(t);
  if (n == 0) return MAE_OK;
  if (t->device.type == MAE_DEVICE_CPU) {
    std::memset(mae_tensor_data(t), byte, n);
    return MAE_OK;
  }
#ifdef MAE_WITH_CUDA
  mae_rt::DeviceGuard guard(t->device.index);
  if (guard.status() != cudaSuccess) return mae_rt::cuda_fail(guard.status(), fn, "cudaSetDevice");
  bool wait = false;
  if (resolve_stream(fn, t->device.index, false, stream, wait) != MAE_OK) return MAE_ERROR;
  cudaStream_t s = stream ? static_cast<cudaStream_t>(stream->handle) : nullptr;
  cudaError_t err = cudaMemsetAsync(mae_tensor_data(t), byte, n, s);
  if (err != cudaSuccess) return mae_rt::cuda_fail(err, fn, "cudaMemsetAsync");
  if (wait && (err = cudaStreamSynchronize(s)) != cudaSuccess) {
    return mae_rt::cuda_fail(err, fn, "cudaStreamSynchronize");
  }
  return MAE_OK;
#else
  return mae_fail("%s: built without CUDA", fn);
#endif
}

}  // extern "C"
