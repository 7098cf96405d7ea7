// cuda_runtime_api.h (emulator): the host runtime API alone, as the real header gives it
// (mae_emu_api.h); cuda_runtime.h adds the device side.
#pragma once
#include "mae_emu_api.h"
