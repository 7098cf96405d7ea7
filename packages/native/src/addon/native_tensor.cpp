// native_tensor.cpp: NativeTensor (getters, view, host copies sync/async, tensor copies, byte
// fills, early release), tensorCreate, and UnwrapTensor from addon.h.
#include "native_tensor.h"

#include <memory>
#include <string>

#include "addon.h"
#include "native_stream.h"
#include "util.h"

namespace mae_addon {

Napi::Function NativeTensor::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeTensor>::DefineClass(
      env, "NativeTensor",
      {InstanceAccessor<&NativeTensor::GetDtype>("dtype"), InstanceAccessor<&NativeTensor::GetShape>("shape"),
       InstanceAccessor<&NativeTensor::GetDevice>("device"), InstanceAccessor<&NativeTensor::GetNumel>("numel"),
       InstanceAccessor<&NativeTensor::GetNbytes>("nbytes"), InstanceMethod<&NativeTensor::View>("view"),
       InstanceMethod<&NativeTensor::CopyFromHost>("copyFromHost"),
       InstanceMethod<&NativeTensor::CopyToHostSync>("copyToHostSync"),
       InstanceMethod<&NativeTensor::CopyToHost>("copyToHost"), InstanceMethod<&NativeTensor::CopyFrom>("copyFrom"),
       InstanceMethod<&NativeTensor::FillBytes>("fillBytes"), InstanceMethod<&NativeTensor::Release>("release")});
}

Napi::Object NativeTensor::Wrap(Napi::Env env, mae_tensor* t) {
  return Data(env).tensor_ctor.New({Napi::External<mae_tensor>::New(env, t)});
}

NativeTensor* NativeTensor::FromValue(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  auto obj = v.As<Napi::Object>();
  if (!obj.InstanceOf(Data(v.Env()).tensor_ctor.Value())) return nullptr;
  return Unwrap(obj);
}

NativeTensor::NativeTensor(const Napi::CallbackInfo& info) : ObjectWrap<NativeTensor>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowType(info.Env(), "NativeTensor cannot be constructed directly; use tensorCreate()");
  }
  tensor_ = info[0].As<Napi::External<mae_tensor>>().Data();
}

NativeTensor::~NativeTensor() { mae_tensor_release(tensor_); }

mae_tensor* NativeTensor::Live(Napi::Env env, const char* op) const {
  if (tensor_ == nullptr) throw Napi::Error::New(env, std::string(op) + ": tensor was released");
  return tensor_;
}

Napi::Value NativeTensor::GetDtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(mae_tensor_dtype(Live(info.Env(), "dtype"))));
}

Napi::Value NativeTensor::GetShape(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "shape");
  auto arr = Napi::Array::New(info.Env(), mae_tensor_ndim(t));
  for (int i = 0; i < mae_tensor_ndim(t); ++i) {
    arr.Set(i, Napi::Number::New(info.Env(), static_cast<double>(mae_tensor_shape(t)[i])));
  }
  return arr;
}

Napi::Value NativeTensor::GetDevice(const Napi::CallbackInfo& info) {
  return DeviceObject(info.Env(), mae_tensor_device(Live(info.Env(), "device")));
}

Napi::Value NativeTensor::GetNumel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(mae_tensor_numel(Live(info.Env(), "numel"))));
}

Napi::Value NativeTensor::GetNbytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(mae_tensor_nbytes(Live(info.Env(), "nbytes"))));
}

Napi::Value NativeTensor::View(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "view");
  auto shape = ParseShape(info[0], "view", "shape");
  const int64_t offset = info[1].IsUndefined() ? 0 : ParseInt(info[1], "view", "offsetElements", 0, int64_t{1} << 53);
  mae_tensor* out = nullptr;
  Check(info.Env(), mae_tensor_view(&out, t, shape.data(), static_cast<int>(shape.size()), offset), "view");
  return Wrap(info.Env(), out);
}

// Checks a typed array against the tensor's byte size.
static HostBytes MatchingBytes(const Napi::Value& v, mae_tensor* t, const char* op) {
  HostBytes host = TypedArrayBytes(v, op, "the typed array");
  if (host.bytes != mae_tensor_nbytes(t)) {
    ThrowType(v.Env(), std::string(op) + ": the typed array has " + std::to_string(host.bytes) + " bytes but the " +
                           mae_dtype_name(mae_tensor_dtype(t)) + " tensor " +
                           ShapeString(mae_tensor_shape(t), mae_tensor_ndim(t)) + " has " +
                           std::to_string(mae_tensor_nbytes(t)) + " bytes");
  }
  return host;
}

static bool IsCudaStream(mae_stream* s) { return s != nullptr && mae_stream_device(s).type == MAE_DEVICE_CUDA; }

Napi::Value NativeTensor::CopyFromHost(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "copyFromHost");
  HostBytes host = MatchingBytes(info[0], t, "copyFromHost");
  mae_stream* s = UnwrapStreamOrNull(info[1], "copyFromHost");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_tensor_copy_from_host(t, host.data, host.bytes, s), "copyFromHost");
  if (IsCudaStream(s)) NativeStream::FromValue(info[1])->KeepAlive(info.Env(), {info[0], info.This()});
  return info.Env().Undefined();
}

Napi::Value NativeTensor::CopyToHostSync(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "copyToHostSync");
  HostBytes host = MatchingBytes(info[0], t, "copyToHostSync");
  Check(info.Env(), mae_tensor_copy_to_host(host.data, t, host.bytes, nullptr), "copyToHostSync");
  return info.Env().Undefined();
}

Napi::Value NativeTensor::CopyToHost(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "copyToHost");
  HostBytes host = MatchingBytes(info[0], t, "copyToHost");
  mae_stream* s = UnwrapStreamOrNull(info[1], "copyToHost");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  // Our own reference keeps the storage alive even if release() is called meanwhile.
  mae_tensor_retain(t);
  std::shared_ptr<mae_tensor> held(t, mae_tensor_release);
  std::vector<Napi::Value> keep{info[0], info.This()};
  if (s != nullptr) keep.push_back(info[1]);
  return RunAsync(
      info.Env(), "copyToHost", [held, host, s]() { return mae_tensor_copy_to_host(host.data, held.get(), host.bytes, s); },
      s, keep);
}

Napi::Value NativeTensor::CopyFrom(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "copyFrom");
  mae_tensor* src = UnwrapTensor(info[0], "copyFrom", "src");
  if (src == nullptr) return info.Env().Undefined();
  mae_stream* s = UnwrapStreamOrNull(info[1], "copyFrom");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_tensor_copy(t, src, s), "copyFrom");
  if (IsCudaStream(s)) NativeStream::FromValue(info[1])->KeepAlive(info.Env(), {info[0], info.This()});
  return info.Env().Undefined();
}

Napi::Value NativeTensor::FillBytes(const Napi::CallbackInfo& info) {
  mae_tensor* t = Live(info.Env(), "fillBytes");
  const auto byte = static_cast<uint8_t>(ParseInt(info[0], "fillBytes", "byte", 0, 255));
  mae_stream* s = UnwrapStreamOrNull(info[1], "fillBytes");
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Check(info.Env(), mae_tensor_fill_bytes(t, byte, s), "fillBytes");
  if (IsCudaStream(s)) NativeStream::FromValue(info[1])->KeepAlive(info.Env(), {info.This()});
  return info.Env().Undefined();
}

Napi::Value NativeTensor::Release(const Napi::CallbackInfo& info) {
  mae_tensor_release(tensor_);
  tensor_ = nullptr;
  return info.Env().Undefined();
}

Napi::Value TensorCreate(const Napi::CallbackInfo& info) {
  const auto dtype = static_cast<mae_dtype>(ParseInt(info[0], "tensorCreate", "dtypeCode", 0, 6));
  auto shape = ParseShape(info[1], "tensorCreate", "shape");
  const mae_device device = ParseDevice(info[2], info[3], "tensorCreate");
  mae_tensor* t = nullptr;
  Check(info.Env(), mae_tensor_create(&t, dtype, shape.data(), static_cast<int>(shape.size()), device),
        "tensorCreate");
  return NativeTensor::Wrap(info.Env(), t);
}

mae_tensor* UnwrapTensor(const Napi::Value& v, const char* op, const char* arg) {
  NativeTensor* wrapper = NativeTensor::FromValue(v);
  if (wrapper == nullptr) {
    Napi::TypeError::New(v.Env(), std::string(op) + ": " + arg + " must be a NativeTensor")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  if (wrapper->tensor() == nullptr) {
    Napi::TypeError::New(v.Env(), std::string(op) + ": " + arg + ": tensor was released").ThrowAsJavaScriptException();
    return nullptr;
  }
  return wrapper->tensor();
}

}  // namespace mae_addon
