// native_nccl.cpp: NCCL for JS over the C ABI (runtime/nccl.cpp): ncclLoad(paths|null) ->
// {path, version}, ncclUniqueId() -> Uint8Array(128), ncclErrorString(code), ncclCommInit(world,
// rank, id, deviceType, deviceIndex) -> Promise of an External holding the mae_nccl_comm (init
// blocks until every rank joins, so it runs on the libuv thread pool; a communicator that is
// collected without destroy/abort is aborted), ncclCommDestroy/Abort/AsyncError(comm),
// ncclAllReduce(comm, tensor, op, stream?), ncclBroadcast(comm, tensor, root, stream?),
// ncclGroupStart(), ncclGroupEnd().
#include <cstring>
#include <string>

#include "addon.h"
#include "native_nccl.h"
#include "util.h"

namespace mae_addon {
namespace {

struct CommHolder {
  mae_nccl_comm* comm = nullptr;
};

Napi::External<CommHolder> WrapComm(Napi::Env env, mae_nccl_comm* comm) {
  return Napi::External<CommHolder>::New(env, new CommHolder{comm}, [](Napi::Env, CommHolder* h) {
    (void)mae_nccl_comm_abort(h->comm);  // leaked: do not wait for peers from the garbage collector
    delete h;
  });
}

CommHolder* UnwrapComm(const Napi::Value& v, const char* op) {
  if (!v.IsExternal()) ThrowType(v.Env(), std::string(op) + ": expected an NCCL communicator");
  auto* h = v.As<Napi::External<CommHolder>>().Data();
  if (h == nullptr || h->comm == nullptr)
    throw Napi::Error::New(v.Env(), std::string(op) + ": the communicator was destroyed or aborted");
  return h;
}

class CommInitWorker : public Napi::AsyncWorker {
 public:
  CommInitWorker(Napi::Env env, int world, int rank, const unsigned char* id, mae_device device)
      : Napi::AsyncWorker(env, "ncclCommInit"),
        deferred_(Napi::Promise::Deferred::New(env)),
        world_(world),
        rank_(rank),
        device_(device) {
    std::memcpy(id_, id, sizeof id_);
  }
  ~CommInitWorker() override { (void)mae_nccl_comm_abort(comm_); }  // only if never handed to JS

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    if (mae_nccl_comm_init(&comm_, world_, rank_, id_, device_) != MAE_OK)
      SetError(std::string("ncclCommInit: ") + mae_last_error());
  }
  void OnOK() override {
    deferred_.Resolve(WrapComm(Env(), comm_));
    comm_ = nullptr;
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int world_;
  int rank_;
  unsigned char id_[MAE_NCCL_UNIQUE_ID_BYTES];
  mae_device device_;
  mae_nccl_comm* comm_ = nullptr;
};

}  // namespace

Napi::Value NcclLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string paths;
  if (info[0].IsString()) paths = info[0].As<Napi::String>().Utf8Value();
  else if (!info[0].IsNull() && !info[0].IsUndefined()) ThrowType(env, "ncclLoad: paths must be a string or null");
  char found[4096];
  Check(env, mae_nccl_load(paths.empty() ? nullptr : paths.c_str(), found, sizeof found), "ncclLoad");
  int version = 0;
  Check(env, mae_nccl_version(&version), "ncclLoad");
  auto result = Napi::Object::New(env);
  result.Set("path", found);
  result.Set("version", Napi::Number::New(env, version));
  return result;
}

Napi::Value NcclUniqueId(const Napi::CallbackInfo& info) {
  auto id = Napi::Uint8Array::New(info.Env(), MAE_NCCL_UNIQUE_ID_BYTES);
  Check(info.Env(), mae_nccl_unique_id(id.Data()), "ncclUniqueId");
  return id;
}

Napi::Value NcclErrorString(const Napi::CallbackInfo& info) {
  const int code = static_cast<int>(ParseInt(info[0], "ncclErrorString", "code", 0, 1 << 30));
  return Napi::String::New(info.Env(), mae_nccl_error_string(code));
}

Napi::Value NcclCommInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int world = static_cast<int>(ParseInt(info[0], "ncclCommInit", "world", 1, 1 << 24));
  const int rank = static_cast<int>(ParseInt(info[1], "ncclCommInit", "rank", 0, world - 1));
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      info[2].As<Napi::Uint8Array>().ElementLength() != MAE_NCCL_UNIQUE_ID_BYTES)
    ThrowType(env, "ncclCommInit: id must be a Uint8Array of " + std::to_string(MAE_NCCL_UNIQUE_ID_BYTES) + " bytes");
  const mae_device device = ParseDevice(info[3], info[4], "ncclCommInit");
  auto* worker = new CommInitWorker(env, world, rank, info[2].As<Napi::Uint8Array>().Data(), device);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value NcclCommDestroy(const Napi::CallbackInfo& info) {
  CommHolder* h = UnwrapComm(info[0], "ncclCommDestroy");
  mae_nccl_comm* comm = h->comm;
  h->comm = nullptr;
  Check(info.Env(), mae_nccl_comm_destroy(comm), "ncclCommDestroy");
  return info.Env().Undefined();
}

Napi::Value NcclCommAbort(const Napi::CallbackInfo& info) {
  CommHolder* h = UnwrapComm(info[0], "ncclCommAbort");
  mae_nccl_comm* comm = h->comm;
  h->comm = nullptr;
  Check(info.Env(), mae_nccl_comm_abort(comm), "ncclCommAbort");
  return info.Env().Undefined();
}

Napi::Value NcclCommAsyncError(const Napi::CallbackInfo& info) {
  int result = 0;
  Check(info.Env(), mae_nccl_comm_async_error(UnwrapComm(info[0], "ncclCommAsyncError")->comm, &result),
        "ncclCommAsyncError");
  return Napi::Number::New(info.Env(), result);
}

Napi::Value NcclAllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CommHolder* h = UnwrapComm(info[0], "ncclAllReduce");
  mae_tensor* t = UnwrapTensor(info[1], "ncclAllReduce", "tensor");
  if (t == nullptr) return env.Undefined();
  const int op = static_cast<int>(ParseInt(info[2], "ncclAllReduce", "op (0 = sum, 1 = avg)", 0, 1));
  mae_stream* s = UnwrapStreamOrNull(info[3], "ncclAllReduce");
  if (env.IsExceptionPending()) return env.Undefined();
  Check(env, mae_nccl_all_reduce(h->comm, t, op, s), "ncclAllReduce");
  return env.Undefined();
}

Napi::Value NcclBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CommHolder* h = UnwrapComm(info[0], "ncclBroadcast");
  mae_tensor* t = UnwrapTensor(info[1], "ncclBroadcast", "tensor");
  if (t == nullptr) return env.Undefined();
  const int root = static_cast<int>(ParseInt(info[2], "ncclBroadcast", "root", 0, 1 << 24));
  mae_stream* s = UnwrapStreamOrNull(info[3], "ncclBroadcast");
  if (env.IsExceptionPending()) return env.Undefined();
  Check(env, mae_nccl_broadcast(h->comm, t, root, s), "ncclBroadcast");
  return env.Undefined();
}

Napi::Value NcclGroupStart(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_nccl_group_start(), "ncclGroupStart");
  return info.Env().Undefined();
}

Napi::Value NcclGroupEnd(const Napi::CallbackInfo& info) {
  Check(info.Env(), mae_nccl_group_end(), "ncclGroupEnd");
  return info.Env().Undefined();
}

}  // namespace mae_addon
