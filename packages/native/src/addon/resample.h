// resample.h: resizeBicubicU8, PIL's Image.resize(BICUBIC) for 8-bit HWC images (see resample.cpp).
#pragma once
#include <napi.h>

namespace mae_addon {
// resizeBicubicU8(src: Uint8Array, width, height, channels, dstWidth, dstHeight): Uint8Array.
Napi::Value ResizeBicubicU8(const Napi::CallbackInfo& info);
}  // namespace mae_addon
