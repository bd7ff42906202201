#ifndef SWIFT_LIGHTFM_COPENBLAS_SHIM_H
#define SWIFT_LIGHTFM_COPENBLAS_SHIM_H

// The only C surface of swift-lightfm: CBLAS and LAPACKE as Debian's OpenBLAS ships them.
#include <cblas.h>
#include <lapacke.h>

// OpenBLAS extensions declared in cblas.h (openblas_set_num_threads, openblas_get_num_threads)
// are used to pin the BLAS thread count while training and while scoring in parallel.

#endif
