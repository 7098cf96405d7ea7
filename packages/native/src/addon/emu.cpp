// emu.cpp: the CUDA emulator's controls for the kernel report (see emu.h); empty outside the
// emulator build.
#include "emu.h"

#ifdef MAE_CUDA_EMULATOR
#include <string>

#include "mae_emu_api.h"

namespace mae_addon {

Napi::Value EmuConfigure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "emuConfigure: expected one options object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const Napi::Object o = info[0].As<Napi::Object>();
  if (o.Has("checks")) {
    const std::string names = o.Get("checks").ToString().Utf8Value();
    if (!mae_emu::set_check_names(names.c_str())) {
      Napi::RangeError::New(env, "emuConfigure: checks '" + names +
                                     "': expected a comma list of memcheck, racecheck, initcheck, all, none")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (o.Has("countFile")) mae_emu::set_count_file(o.Get("countFile").ToString().Utf8Value().c_str());
  if (o.Has("sampleBlocks")) mae_emu::set_block_sample(o.Get("sampleBlocks").ToNumber().Uint32Value());
  if (o.Has("fill")) mae_emu::set_alloc_fill(o.Get("fill").ToBoolean().Value());
  return env.Undefined();
}

}  // namespace mae_addon
#endif
