// native_tensor.h: the JS class NativeTensor wrapping one reference to a mae_tensor.
#pragma once
#include <napi.h>

#include "mae_cuda.h"

namespace mae_addon {

class NativeTensor : public Napi::ObjectWrap<NativeTensor> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // Wraps t in a new NativeTensor, taking over the caller's reference.
  static Napi::Object Wrap(Napi::Env env, mae_tensor* t);
  // The NativeTensor behind v, or nullptr when v is not one.
  static NativeTensor* FromValue(const Napi::Value& v);

  explicit NativeTensor(const Napi::CallbackInfo& info);
  ~NativeTensor() override;
  mae_tensor* tensor() const { return tensor_; }

 private:
  mae_tensor* Live(Napi::Env env, const char* op) const;
  Napi::Value GetDtype(const Napi::CallbackInfo& info);
  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetNumel(const Napi::CallbackInfo& info);
  Napi::Value GetNbytes(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value CopyFromHost(const Napi::CallbackInfo& info);
  Napi::Value CopyToHostSync(const Napi::CallbackInfo& info);
  Napi::Value CopyToHost(const Napi::CallbackInfo& info);
  Napi::Value CopyFrom(const Napi::CallbackInfo& info);
  Napi::Value FillBytes(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);

  mae_tensor* tensor_ = nullptr;
};

// tensorCreate(dtypeCode, shape, deviceType, deviceIndex): NativeTensor
Napi::Value TensorCreate(const Napi::CallbackInfo& info);

}  // namespace mae_addon
