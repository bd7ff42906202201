#ifndef LIGHTFM_KERNELS_H
#define LIGHTFM_KERNELS_H

/// Selection kernels of the scoring engine, in C so that they can use AVX-512 or AVX2 where
/// the CPU has them: Swift compiles for the baseline x86-64 (SSE2) unless a package passes
/// unsafe flags, and a package that others depend on must not. Each kernel picks its widest
/// version once, at the first call, from what the running CPU reports; every version returns
/// the same result.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The first index j with `from <= j < n` and `row[j] > t`, or `n` when there is none.
/// NaN entries never qualify, nor does any entry when `t` is NaN or +infinity.
ptrdiff_t lfm_next_above(const float *row, ptrdiff_t from, ptrdiff_t n, float t);

/// For each e < p: `counts[e] += #{ j < n : row[j] >= thresholds[e] }`.
/// NaN entries never count; a NaN threshold counts nothing.
void lfm_count_at_least(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *counts);

/// The same counts for ascending `thresholds` without NaN, through a binary search per row
/// entry (`log2 p` gathers of 16 or 8 lanes) and a histogram of `p + 1` slots in `histogram`:
/// cheaper than `lfm_count_at_least` when `p` is long.
void lfm_count_at_least_sorted(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *histogram,
  int64_t *counts);

/// The widest instruction set the kernels use on this CPU: 512 (AVX-512), 256 (AVX2) or 0
/// (portable C). For the benchmark's report.
int lfm_kernel_width(void);

/// From now on uses at most `width` (512, 256 or 0), never more than the CPU supports, and
/// returns the width in use before. For tests that check the versions against each other.
int lfm_limit_kernel_width(int width);

#ifdef __cplusplus
}
#endif

#endif
