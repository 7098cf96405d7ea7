// process.h: process-level helpers for the command line (not part of the C ABI).
#pragma once
#include <napi.h>

namespace mae_addon {
// setParentDeathSignal(signal): on Linux, asks the kernel to send this process `signal` when the
// thread that started it ends (prctl PR_SET_PDEATHSIG); true when set, false where unsupported.
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info);
}  // namespace mae_addon
