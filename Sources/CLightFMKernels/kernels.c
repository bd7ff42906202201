#include "lightfm_kernels.h"

#include <stdatomic.h>

// Portable versions: the reference every wider version must agree with.

// Written so that a compiler vectorises them for the baseline vector unit (SSE2, NEON): the
// scan tests 32 entries with no early exit inside, the count adds into 32-bit lanes.

static ptrdiff_t next_above_portable(const float *row, ptrdiff_t from, ptrdiff_t n, float t) {
  ptrdiff_t j = from;
  for (; j + 32 <= n; j += 32) {
    int any = 0;
    for (int l = 0; l < 32; l++) any |= row[j + l] > t;
    if (any) break;
  }
  for (; j < n; j++) {
    if (row[j] > t) return j;
  }
  return n;
}

static void count_at_least_portable(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *counts) {
  for (ptrdiff_t e = 0; e < p; e++) {
    const float t = thresholds[e];
    int64_t c = 0;
    for (ptrdiff_t start = 0; start < n; start += (ptrdiff_t)1 << 30) {
      const ptrdiff_t end = n - start > ((ptrdiff_t)1 << 30) ? start + ((ptrdiff_t)1 << 30) : n;
      int32_t part = 0;
      for (ptrdiff_t j = start; j < end; j++) part += row[j] >= t;
      c += part;
    }
    counts[e] += c;
  }
}

// The largest power of two not above p (p >= 1).
static ptrdiff_t top_step(ptrdiff_t p) {
  ptrdiff_t step = 1;
  while (step * 2 <= p) step *= 2;
  return step;
}

// counts[e] += the entries whose position (thresholds at or below them) exceeds e.
static void add_suffix_counts(const int64_t *hist, ptrdiff_t p, int64_t *counts) {
  int64_t above = 0;
  for (ptrdiff_t e = p - 1; e >= 0; e--) {
    above += hist[e + 1];
    counts[e] += above;
  }
}

static void count_sorted_portable(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *hist,
  int64_t *counts) {
  const ptrdiff_t first = top_step(p);
  for (ptrdiff_t q = 0; q <= p; q++) hist[q] = 0;
  for (ptrdiff_t j = 0; j < n; j++) {
    const float v = row[j];
    ptrdiff_t pos = 0;
    for (ptrdiff_t step = first; step > 0; step >>= 1) {
      if (pos + step <= p && thresholds[pos + step - 1] <= v) pos += step;
    }
    hist[pos]++;
  }
  add_suffix_counts(hist, p, counts);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define LFM_X86 1

// AVX-512: 64 entries per step in the scan (four 16-lane compares OR-ed into one mask).

__attribute__((target("avx512f,avx512bw")))
static ptrdiff_t next_above_avx512(const float *row, ptrdiff_t from, ptrdiff_t n, float t) {
  const __m512 tv = _mm512_set1_ps(t);
  ptrdiff_t j = from;
  for (; j + 64 <= n; j += 64) {
    __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), tv, _CMP_GT_OQ);
    __mmask16 m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 16), tv, _CMP_GT_OQ);
    __mmask16 m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 32), tv, _CMP_GT_OQ);
    __mmask16 m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 48), tv, _CMP_GT_OQ);
    if ((m0 | m1 | m2 | m3) != 0) {
      uint64_t bits = (uint64_t)m0 | ((uint64_t)m1 << 16) | ((uint64_t)m2 << 32)
        | ((uint64_t)m3 << 48);
      return j + __builtin_ctzll(bits);
    }
  }
  for (; j < n; j += 16) {
    ptrdiff_t left = n - j;
    __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    __mmask16 m = _mm512_mask_cmp_ps_mask(live, _mm512_maskz_loadu_ps(live, row + j), tv,
      _CMP_GT_OQ);
    if (m != 0) return j + __builtin_ctz((unsigned)m);
  }
  return n;
}

__attribute__((target("avx512f,avx512bw")))
static void count_at_least_avx512(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *counts) {
  const ptrdiff_t full = n & ~(ptrdiff_t)15;
  const ptrdiff_t left = n - full;
  const __mmask16 live = (__mmask16)((1u << left) - 1);
  const __m512i one = _mm512_set1_epi32(1);
  for (ptrdiff_t e = 0; e < p; e++) {
    const __m512 tv = _mm512_set1_ps(thresholds[e]);
    __m512i a0 = _mm512_setzero_si512();
    __m512i a1 = _mm512_setzero_si512();
    ptrdiff_t j = 0;
    for (; j + 32 <= full; j += 32) {
      __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), tv, _CMP_GE_OQ);
      __mmask16 m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 16), tv, _CMP_GE_OQ);
      a0 = _mm512_mask_add_epi32(a0, m0, a0, one);
      a1 = _mm512_mask_add_epi32(a1, m1, a1, one);
    }
    if (j < full) {
      __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), tv, _CMP_GE_OQ);
      a0 = _mm512_mask_add_epi32(a0, m0, a0, one);
    }
    if (left) {
      __mmask16 m = _mm512_mask_cmp_ps_mask(live, _mm512_maskz_loadu_ps(live, row + full), tv,
        _CMP_GE_OQ);
      a1 = _mm512_mask_add_epi32(a1, m, a1, one);
    }
    counts[e] += _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
  }
}

// Position of 16 entries at once: pos += step where thresholds[pos + step - 1] <= v. Lanes past
// the row hold NaN and stay at 0, a slot no count reads.
__attribute__((target("avx512f,avx512bw")))
static void count_sorted_avx512(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *hist,
  int64_t *counts) {
  const ptrdiff_t first = top_step(p);
  const __m512i limit = _mm512_set1_epi32((int)p);
  const __m512 nan = _mm512_set1_ps(__builtin_nanf(""));
  int32_t lanes[16];
  for (ptrdiff_t q = 0; q <= p; q++) hist[q] = 0;
  for (ptrdiff_t j = 0; j < n; j += 16) {
    ptrdiff_t left = n - j;
    __mmask16 live = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    __m512 v = _mm512_mask_loadu_ps(nan, live, row + j);
    __m512i pos = _mm512_setzero_si512();
    for (ptrdiff_t step = first; step > 0; step >>= 1) {
      __m512i s = _mm512_set1_epi32((int)step);
      __m512i next = _mm512_add_epi32(pos, s);
      __mmask16 inside = _mm512_cmple_epi32_mask(next, limit);
      __m512i index = _mm512_sub_epi32(next, _mm512_set1_epi32(1));
      __m512 t = _mm512_mask_i32gather_ps(v, inside, index, thresholds, 4);
      __mmask16 up = _mm512_mask_cmp_ps_mask(inside, t, v, _CMP_LE_OQ);
      pos = _mm512_mask_mov_epi32(pos, up, next);
    }
    _mm512_storeu_si512(lanes, pos);
    for (int l = 0; l < 16; l++) hist[lanes[l]]++;
  }
  add_suffix_counts(hist, p, counts);
}

// AVX2: 32 entries per step in the scan.

__attribute__((target("avx2")))
static ptrdiff_t next_above_avx2(const float *row, ptrdiff_t from, ptrdiff_t n, float t) {
  const __m256 tv = _mm256_set1_ps(t);
  ptrdiff_t j = from;
  for (; j + 32 <= n; j += 32) {
    __m256 c0 = _mm256_cmp_ps(_mm256_loadu_ps(row + j), tv, _CMP_GT_OQ);
    __m256 c1 = _mm256_cmp_ps(_mm256_loadu_ps(row + j + 8), tv, _CMP_GT_OQ);
    __m256 c2 = _mm256_cmp_ps(_mm256_loadu_ps(row + j + 16), tv, _CMP_GT_OQ);
    __m256 c3 = _mm256_cmp_ps(_mm256_loadu_ps(row + j + 24), tv, _CMP_GT_OQ);
    __m256 any = _mm256_or_ps(_mm256_or_ps(c0, c1), _mm256_or_ps(c2, c3));
    if (!_mm256_testz_ps(any, any)) {
      uint32_t bits = (uint32_t)_mm256_movemask_ps(c0) | ((uint32_t)_mm256_movemask_ps(c1) << 8)
        | ((uint32_t)_mm256_movemask_ps(c2) << 16) | ((uint32_t)_mm256_movemask_ps(c3) << 24);
      return j + __builtin_ctz(bits);
    }
  }
  return next_above_portable(row, j, n, t);
}

__attribute__((target("avx2")))
static void count_at_least_avx2(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *counts) {
  const ptrdiff_t full = n & ~(ptrdiff_t)7;
  for (ptrdiff_t e = 0; e < p; e++) {
    const float t = thresholds[e];
    const __m256 tv = _mm256_set1_ps(t);
    // A true compare is all ones, -1 as an integer: subtracting it counts one.
    __m256i a0 = _mm256_setzero_si256();
    __m256i a1 = _mm256_setzero_si256();
    ptrdiff_t j = 0;
    for (; j + 16 <= full; j += 16) {
      __m256 c0 = _mm256_cmp_ps(_mm256_loadu_ps(row + j), tv, _CMP_GE_OQ);
      __m256 c1 = _mm256_cmp_ps(_mm256_loadu_ps(row + j + 8), tv, _CMP_GE_OQ);
      a0 = _mm256_sub_epi32(a0, _mm256_castps_si256(c0));
      a1 = _mm256_sub_epi32(a1, _mm256_castps_si256(c1));
    }
    if (j < full) {
      __m256 c0 = _mm256_cmp_ps(_mm256_loadu_ps(row + j), tv, _CMP_GE_OQ);
      a0 = _mm256_sub_epi32(a0, _mm256_castps_si256(c0));
    }
    __m256i s = _mm256_add_epi32(a0, a1);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    int64_t c = _mm_cvtsi128_si32(h);
    for (ptrdiff_t k = full; k < n; k++) c += row[k] >= t;
    counts[e] += c;
  }
}

__attribute__((target("avx2")))
static void count_sorted_avx2(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *hist,
  int64_t *counts) {
  const ptrdiff_t first = top_step(p);
  const __m256i limit = _mm256_set1_epi32((int)p + 1);
  const __m256i one = _mm256_set1_epi32(1);
  int32_t lanes[8];
  float tail[8];
  for (ptrdiff_t q = 0; q <= p; q++) hist[q] = 0;
  for (ptrdiff_t j = 0; j < n; j += 8) {
    const float *source = row + j;
    ptrdiff_t left = n - j;
    if (left < 8) {
      for (int l = 0; l < 8; l++) tail[l] = l < left ? row[j + l] : __builtin_nanf("");
      source = tail;
    }
    __m256 v = _mm256_loadu_ps(source);
    __m256i pos = _mm256_setzero_si256();
    for (ptrdiff_t step = first; step > 0; step >>= 1) {
      __m256i next = _mm256_add_epi32(pos, _mm256_set1_epi32((int)step));
      // next <= p, as next < p + 1.
      __m256i inside = _mm256_cmpgt_epi32(limit, next);
      __m256i index = _mm256_sub_epi32(next, one);
      __m256 t = _mm256_mask_i32gather_ps(v, thresholds, index, _mm256_castsi256_ps(inside), 4);
      __m256 up = _mm256_and_ps(_mm256_cmp_ps(t, v, _CMP_LE_OQ), _mm256_castsi256_ps(inside));
      pos = _mm256_blendv_epi8(pos, next, _mm256_castps_si256(up));
    }
    _mm256_storeu_si256((__m256i *)lanes, pos);
    for (int l = 0; l < 8; l++) hist[lanes[l]]++;
  }
  add_suffix_counts(hist, p, counts);
}
#endif

// Dispatch: the widest version the CPU supports, chosen at the first call. Racing first calls
// choose the same value, so a relaxed atomic is enough.

static _Atomic int chosen_width = -1;

static int detect_width(void) {
#ifdef LFM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return 512;
  if (__builtin_cpu_supports("avx2")) return 256;
#endif
  return 0;
}

int lfm_kernel_width(void) {
  int w = atomic_load_explicit(&chosen_width, memory_order_relaxed);
  if (w < 0) {
    w = detect_width();
    atomic_store_explicit(&chosen_width, w, memory_order_relaxed);
  }
  return w;
}

void lfm_count_at_least_sorted(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *histogram,
  int64_t *counts) {
  if (n <= 0 || p <= 0) return;
  switch (lfm_kernel_width()) {
#ifdef LFM_X86
  case 512: count_sorted_avx512(row, n, thresholds, p, histogram, counts); return;
  case 256: count_sorted_avx2(row, n, thresholds, p, histogram, counts); return;
#endif
  default: count_sorted_portable(row, n, thresholds, p, histogram, counts); return;
  }
}

int lfm_limit_kernel_width(int width) {
  int before = lfm_kernel_width();
  int supported = detect_width();
  int w = width >= 512 ? 512 : width >= 256 ? 256 : 0;
  if (w > supported) w = supported;
  atomic_store_explicit(&chosen_width, w, memory_order_relaxed);
  return before;
}

ptrdiff_t lfm_next_above(const float *row, ptrdiff_t from, ptrdiff_t n, float t) {
  if (from >= n) return n;
  switch (lfm_kernel_width()) {
#ifdef LFM_X86
  case 512: return next_above_avx512(row, from, n, t);
  case 256: return next_above_avx2(row, from, n, t);
#endif
  default: return next_above_portable(row, from, n, t);
  }
}

void lfm_count_at_least(
  const float *row, ptrdiff_t n, const float *thresholds, ptrdiff_t p, int64_t *counts) {
  if (n <= 0 || p <= 0) return;
  switch (lfm_kernel_width()) {
#ifdef LFM_X86
  case 512: count_at_least_avx512(row, n, thresholds, p, counts); return;
  case 256: count_at_least_avx2(row, n, thresholds, p, counts); return;
#endif
  default: count_at_least_portable(row, n, thresholds, p, counts); return;
  }
}
