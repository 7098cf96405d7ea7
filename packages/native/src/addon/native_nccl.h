// native_nccl.h: the addon's NCCL functions (native_nccl.cpp).
#pragma once
#include <napi.h>

namespace mae_addon {
Napi::Value NcclLoad(const Napi::CallbackInfo& info);
Napi::Value NcclUniqueId(const Napi::CallbackInfo& info);
Napi::Value NcclErrorString(const Napi::CallbackInfo& info);
Napi::Value NcclCommInit(const Napi::CallbackInfo& info);
Napi::Value NcclCommDestroy(const Napi::CallbackInfo& info);
Napi::Value NcclCommAbort(const Napi::CallbackInfo& info);
Napi::Value NcclCommAsyncError(const Napi::CallbackInfo& info);
Napi::Value NcclAllReduce(const Napi::CallbackInfo& info);
Napi::Value NcclBroadcast(const Napi::CallbackInfo& info);
Napi::Value NcclGroupStart(const Napi::CallbackInfo& info);
Napi::Value NcclGroupEnd(const Napi::CallbackInfo& info);
}  // namespace mae_addon
