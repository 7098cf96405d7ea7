// process.cpp: setParentDeathSignal, which ties a worker's life to its launcher's on Linux (the
// launcher of `mae-cuda pretrain --gpus N` starts its workers from its main thread, so the signal
// comes when the launcher process ends, however it ends).
#include "process.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "util.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace mae_addon {

Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int signal = static_cast<int>(ParseInt(info[0], "setParentDeathSignal", "signal", 1, 64));
#ifdef __linux__
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signal)) != 0) {
    throw Napi::Error::New(env, std::string("setParentDeathSignal: prctl(PR_SET_PDEATHSIG, ") +
                                    std::to_string(signal) + ") failed: " + std::strerror(errno));
  }
  return Napi::Boolean::New(env, true);
#else
  (void)signal;
  return Napi::Boolean::New(env, false);
#endif
}

}  // namespace mae_addon
