// async.cpp: RunAsync (runs runtime work on the libuv thread pool and settles a Promise; the
// tensors passed to keep alive are retained until it settles) and ThrowLastError (addon.h).
#include <string>
#include <utility>
#include <vector>

#include "addon.h"
#include "native_tensor.h"
#include "util.h"

namespace mae_addon {
namespace {

class RuntimeWorker : public Napi::AsyncWorker {
 public:
  RuntimeWorker(Napi::Env env, const char* op, std::function<mae_status()> fn, mae_stream* stream,
                const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, op),
        deferred_(Napi::Promise::Deferred::New(env)),
        op_(op),
        fn_(std::move(fn)),
        stream_(stream) {
    for (const auto& v : keep_alive) {
      if (!v.IsObject()) continue;
      refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
      // A runtime reference too, so release() on the JS side cannot free storage the work uses.
      NativeTensor* t = NativeTensor::FromValue(v);
      if (t != nullptr && t->tensor() != nullptr) {
        mae_tensor_retain(t->tensor());
        tensors_.push_back(t->tensor());
      }
    }
  }

  ~RuntimeWorker() override {
    for (mae_tensor* t : tensors_) mae_tensor_release(t);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    (void)mae_set_cpu_threads(mae_cpu_threads());  // OpenMP's thread count is per calling thread
    if (fn_() != MAE_OK) {
      SetError(OpError(op_));
      return;
    }
    if (stream_ != nullptr && mae_stream_device(stream_).type == MAE_DEVICE_CUDA &&
        mae_stream_synchronize(stream_) != MAE_OK) {
      SetError(OpError(op_));
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string op_;
  std::function<mae_status()> fn_;
  mae_stream* stream_;
  std::vector<Napi::Reference<Napi::Object>> refs_;
  std::vector<mae_tensor*> tensors_;
};

}  // namespace

Napi::Value RunAsync(Napi::Env env, const char* op, std::function<mae_status()> fn, mae_stream* stream,
                     const std::vector<Napi::Value>& keepAlive) {
  auto* worker = new RuntimeWorker(env, op, std::move(fn), stream, keepAlive);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

void ThrowLastError(Napi::Env env, const char* op) {
  Napi::Error::New(env, OpError(op)).ThrowAsJavaScriptException();
}

}  // namespace mae_addon
