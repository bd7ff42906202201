#ifndef SWIFT_LIGHTFM_CZLIB_SHIM_H
#define SWIFT_LIGHTFM_CZLIB_SHIM_H

// zlib, for the DEFLATE members of .npz archives and for CRC-32 (zip members, model files).
#include <zlib.h>

// inflateInit2 is a macro, which Swift cannot call: this wraps it for raw DEFLATE data (no zlib
// or gzip header, 32 KiB window), the form zip archives store.
static inline int lightfm_inflate_init_raw(z_stream *stream) {
  return inflateInit2(stream, -MAX_WBITS);
}

// The same for deflateInit2: raw DEFLATE at `level`, as zip writers store it (test fixtures).
static inline int lightfm_deflate_init_raw(z_stream *stream, int level) {
  return deflateInit2(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

#endif
