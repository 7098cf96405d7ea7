// resample.h: resizeBicubicU8 and cropResizeBicubicU8, PIL's Image.resize(BICUBIC) for 8-bit HWC images (see resample.cpp).
#pragma once
#include <napi.h>

namespace mae_addon {
// resizeBicubicU8(src: Uint8Array, width, height, channels, dstWidth, dstHeight): Uint8Array.
Napi::Value ResizeBicubicU8(const Napi::CallbackInfo& info);
// cropResizeBicubicU8(dst, src, width, height, channels, left, top, boxWidth, boxHeight, dstWidth,
// dstHeight, flip): the box of src resized into dst (dstWidth * dstHeight * channels bytes),
// mirrored left to right when flip.
Napi::Value CropResizeBicubicU8(const Napi::CallbackInfo& info);
}  // namespace mae_addon
