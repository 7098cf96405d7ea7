// cuda_runtime.h (emulator): what <cuda_runtime.h> gives the mae-cuda sources, for a host C++ build
// that runs them on the CPU: the runtime API stand-in (mae_emu_api.h) and the device side (CUDA
// qualifiers, built-in variables, barriers, shuffles, shared memory, launches; mae_emu_device.h).
// Found before any real CUDA header because the emulator build puts this folder first on the path.
#pragma once
#include "mae_emu_api.h"
#include "mae_emu_device.h"
