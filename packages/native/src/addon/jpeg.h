// jpeg.h: JPEG header reading and region decoding with libjpeg(-turbo) for the data loader (see
// jpeg.cpp). Built when CMake finds libjpeg; otherwise jpegAvailable() is false and the loader uses
// sharp for JPEGs as for every other format.
#pragma once
#include <napi.h>

namespace mae_addon {

// jpegAvailable(): boolean.
Napi::Value JpegAvailable(const Napi::CallbackInfo& info);
// jpegHeader(bytes: Uint8Array): { width, height, components, colorSpace }.
Napi::Value JpegHeader(const Napi::CallbackInfo& info);
// jpegDecodeRegion(bytes: Uint8Array, left, top, width, height): Uint8Array (RGB, HWC).
Napi::Value JpegDecodeRegion(const Napi::CallbackInfo& info);

}  // namespace mae_addon
