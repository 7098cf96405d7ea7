// jpeg.cpp: what the data loader needs of a baseline or progressive 8-bit JPEG, with libjpeg-turbo:
// its header (stored size, components, colour space) and the RGB pixels of one crop box, decoded as
// PIL decodes it (libjpeg's defaults: the accurate integer IDCT, fancy upsampling; grey expanded to
// RGB as convert('RGB') does). Only the box's columns (and a margin) are decoded past the entropy
// decoder; rows above the box are skipped (entropy-decoded only); the rest of
// the file is still entropy-decoded to its end, so a truncated file is refused whatever the box, as
// PIL refuses it. CMYK and YCCK files are left to sharp (PIL's Adobe inversion rules live there).
// Errors come back as JavaScript Errors whose message starts with "jpeg: ". Synchronous, on the
// calling thread.
#include "jpeg.h"

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "util.h"

#ifdef MAE_HAVE_LIBJPEG
#include <jerror.h>
#include <jpeglib.h>
#endif

namespace mae_addon {

#ifdef MAE_HAVE_LIBJPEG
namespace {

// libjpeg reports fatal errors through error_exit, which must not return: longjmp back to the
// frame that called setjmp (which holds no C++ object with a destructor). A premature end of data
// (a truncated file) is only a warning to libjpeg, which pads the image with grey; here it is fatal.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void OnError(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

void OnMessage(j_common_ptr c, int level) {
  if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) OnError(c);
  if (level < 0) c->err->num_warnings++;
}

struct Decoder {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
};

void Open(Decoder& d, const uint8_t* data, size_t bytes) {
  d.cinfo.err = jpeg_std_error(&d.err.pub);
  d.err.pub.error_exit = OnError;
  d.err.pub.emit_message = OnMessage;
  d.err.message[0] = 0;
  jpeg_create_decompress(&d.cinfo);
  jpeg_mem_src(&d.cinfo, data, static_cast<unsigned long>(bytes));
}

const char* SpaceName(J_COLOR_SPACE s) {
  switch (s) {
    case JCS_GRAYSCALE: return "grey";
    case JCS_YCbCr: return "ycbcr";
    case JCS_RGB: return "rgb";
    case JCS_CMYK: return "cmyk";
    case JCS_YCCK: return "ycck";
    default: return "unknown";
  }
}

struct HeaderInfo {
  int width = 0, height = 0, components = 0;
  J_COLOR_SPACE space = JCS_UNKNOWN;
};

// 0 on success; otherwise d.err.message says why. No C++ objects live across setjmp.
int ReadHeader(Decoder& d, const uint8_t* data, size_t bytes, HeaderInfo* out) {
  Open(d, data, bytes);
  if (setjmp(d.err.jump)) {
    jpeg_destroy_decompress(&d.cinfo);
    return 1;
  }
  jpeg_read_header(&d.cinfo, TRUE);
  out->width = static_cast<int>(d.cinfo.image_width);
  out->height = static_cast<int>(d.cinfo.image_height);
  out->components = d.cinfo.num_components;
  out->space = d.cinfo.jpeg_color_space;
  jpeg_destroy_decompress(&d.cinfo);
  return 0;
}

// Limits the columns decoded (IDCT, upsampling, colour conversion) to the box's, widened by two
// iMCUs on each side (jpeg_crop_scanline itself widens to whole iMCUs): at the edge of a cropped
// region libjpeg-turbo's fancy upsampling lacks the neighbouring chroma samples and its pixels there
// are not the whole image's (seen on a 17-pixel-wide 4:2:0 image), so the box stays two iMCUs from
// any edge that is not the image's. Returns the first column decoded. After jpeg_start_decompress.
int CropColumns(jpeg_decompress_struct& cinfo, int left, int w) {
  const int width = static_cast<int>(cinfo.output_width);
  const int margin = 2 * cinfo.max_h_samp_factor * DCTSIZE;
  const int from = std::max(0, left - margin), to = std::min(width, left + w + margin);
  if (to - from >= width) return 0;  // nothing to save
  JDIMENSION x = static_cast<JDIMENSION>(from), n = static_cast<JDIMENSION>(to - from);
  jpeg_crop_scanline(&cinfo, &x, &n);
  return static_cast<int>(x);
}

// Decodes box (left, top, w, h) as RGB into out (w * h * 3 bytes), with row sized to one scanline
// of the image here. 0 on success; 1 when libjpeg fails (d.err.message says why); 2 when the box is
// outside the image (size holds the image's). The header is read once, here.
int DecodeRegion(Decoder& d, const uint8_t* data, size_t bytes, int left, int top, int w, int h, uint8_t* out,
                 std::vector<uint8_t>* row, HeaderInfo* size) {
  Open(d, data, bytes);
  if (setjmp(d.err.jump)) {
    jpeg_destroy_decompress(&d.cinfo);
    return 1;
  }
  jpeg_read_header(&d.cinfo, TRUE);
  size->width = static_cast<int>(d.cinfo.image_width);
  size->height = static_cast<int>(d.cinfo.image_height);
  if (left + w > size->width || top + h > size->height) {
    jpeg_destroy_decompress(&d.cinfo);
    return 2;
  }
  if (d.cinfo.jpeg_color_space == JCS_CMYK || d.cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(d.err.message, sizeof d.err.message, "CMYK and YCCK images are not decoded here");
    jpeg_destroy_decompress(&d.cinfo);
    return 1;
  }
  row->resize(static_cast<size_t>(size->width) * 3);
  d.cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&d.cinfo);
  const int skipCols = left - CropColumns(d.cinfo, left, w);
  if (top > 0) jpeg_skip_scanlines(&d.cinfo, static_cast<JDIMENSION>(top));
  for (int y = 0; y < h; y++) {
    JSAMPROW r = row->data();
    if (jpeg_read_scanlines(&d.cinfo, &r, 1) != 1) {
      std::snprintf(d.err.message, sizeof d.err.message, "no scanline %d", top + y);
      jpeg_destroy_decompress(&d.cinfo);
      return 1;
    }
    std::memcpy(out + static_cast<size_t>(y) * w * 3, row->data() + static_cast<size_t>(skipCols) * 3,
                static_cast<size_t>(w) * 3);
  }
  // The rest of the rows: skipped (entropy-decoded only) but for the last, which is read, since
  // skipping to the very end returns without reading the data and so would miss a truncation.
  const JDIMENSION rest = d.cinfo.output_height - d.cinfo.output_scanline;
  if (rest > 1) jpeg_skip_scanlines(&d.cinfo, rest - 1);
  if (rest > 0) {
    JSAMPROW r = row->data();
    jpeg_read_scanlines(&d.cinfo, &r, 1);
  }
  jpeg_finish_decompress(&d.cinfo);
  jpeg_destroy_decompress(&d.cinfo);
  return 0;
}

const uint8_t* JpegBytes(const Napi::CallbackInfo& info, const char* op, size_t* bytes) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), std::string(op) + ": bytes must be a Uint8Array");
  }
  const HostBytes b = TypedArrayBytes(info[0], op, "bytes");
  if (b.bytes == 0) throw Napi::Error::New(info.Env(), std::string("jpeg: the file is empty (0 bytes)"));
  *bytes = b.bytes;
  return static_cast<const uint8_t*>(b.data);
}

}  // namespace

Napi::Value JpegAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), true); }

Napi::Value JpegHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t bytes = 0;
  const uint8_t* data = JpegBytes(info, "jpegHeader", &bytes);
  Decoder d;
  HeaderInfo h;
  if (ReadHeader(d, data, bytes, &h) != 0) throw Napi::Error::New(env, std::string("jpeg: ") + d.err.message);
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", h.width);
  o.Set("height", h.height);
  o.Set("components", h.components);
  o.Set("colorSpace", SpaceName(h.space));
  return o;
}

Napi::Value JpegDecodeRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "jpegDecodeRegion";
  if (info.Length() != 5) {
    ThrowType(env, std::string(op) + ": expected (bytes, left, top, width, height), got " +
                       std::to_string(info.Length()) + " arguments");
  }
  size_t bytes = 0;
  const uint8_t* data = JpegBytes(info, op, &bytes);
  constexpr int64_t kMaxSide = 65535;  // JPEG's own limit
  const int left = static_cast<int>(ParseInt(info[1], op, "left", 0, kMaxSide));
  const int top = static_cast<int>(ParseInt(info[2], op, "top", 0, kMaxSide));
  const int w = static_cast<int>(ParseInt(info[3], op, "width", 1, kMaxSide));
  const int h = static_cast<int>(ParseInt(info[4], op, "height", 1, kMaxSide));
  Decoder d;
  HeaderInfo hd;
  std::vector<uint8_t> row;
  Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(w) * h * 3);
  const int r = DecodeRegion(d, data, bytes, left, top, w, h, out.Data(), &row, &hd);
  if (r == 2) {
    throw Napi::RangeError::New(env, std::string(op) + ": the box " + std::to_string(w) + "x" + std::to_string(h) +
                                         " at (" + std::to_string(left) + ", " + std::to_string(top) +
                                         ") is outside the " + std::to_string(hd.width) + "x" +
                                         std::to_string(hd.height) + " image");
  }
  if (r != 0) throw Napi::Error::New(env, std::string("jpeg: ") + d.err.message);
  return out;
}

#else  // no libjpeg: the loader uses sharp

Napi::Value JpegAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }
Napi::Value JpegHeader(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "jpegHeader: this build has no libjpeg");
}
Napi::Value JpegDecodeRegion(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "jpegDecodeRegion: this build has no libjpeg");
}

#endif

}  // namespace mae_addon
