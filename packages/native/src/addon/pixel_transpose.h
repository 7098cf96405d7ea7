// pixel_transpose.h: the transpose of a block of rows of a packed 8-bit image (pixels of 1 to 4
// bytes), the data loader's resize's way of running its horizontal pass as a vertical one.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mae_addon {
// dst (cols x rows pixels of ch bytes, packed) = the transpose of rows [y0, y0 + rows) of src (cols
// pixels per row, rows `stride` bytes apart); with `mirror`, the rows are taken last first, so that
// dst's columns come out mirrored. dst must not overlap src.
void TransposePixels(const uint8_t* src, size_t stride, int cols, int ch, int y0, int rows, bool mirror,
                     uint8_t* dst);
}  // namespace mae_addon
