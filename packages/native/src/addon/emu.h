// emu.h: the CUDA emulator's controls, in the emulator build of the addon only (mae_native_emu.node,
// MAE_CUDA_EMULATOR): what the kernel report sets before it runs a step (docs/EMULATOR.md).
#pragma once
#include <napi.h>

namespace mae_addon {
#ifdef MAE_CUDA_EMULATOR
// emuConfigure({checks?: string, countFile?: string, sampleBlocks?: number, fill?: boolean}):
// the access checks by name (MAE_EMU_CHECK's words), where the performance counters go ("" stops
// them), the blocks run per grid (0: all) and whether new device memory is filled with 0xff.
// Throws on a check name it does not know.
Napi::Value EmuConfigure(const Napi::CallbackInfo& info);
#endif
}  // namespace mae_addon
