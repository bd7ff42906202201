import CLightFMKernels

/// The scans of the top-k selection and the rank counting, in the `CLightFMKernels` C target.
///
/// Swift compiles this package for the baseline x86-64 vector width (SSE2, four lanes): wider
/// code would need unsafe compiler flags, which a package others depend on cannot have. These
/// two scans read every score the GEMM writes, so they are written in C with AVX-512 and AVX2
/// versions, one chosen at the first call from what the CPU reports (a portable version
/// elsewhere). Every version gives the same result.
enum SelectionKernels {
  /// The first `j` in `from ..< n` with `row[j] > t`, or `n`. NaN never qualifies.
  @inline(__always)
  static func nextAbove(_ row: UnsafePointer<Float>, from: Int, count n: Int, _ t: Float) -> Int {
    lfm_next_above(row, from, n, t)
  }

  /// `counts[e] += #{ j < n : row[j] ≥ thresholds[e] }` for `e < p`. NaN never counts.
  @inline(__always)
  static func countAtLeast(
    _ row: UnsafePointer<Float>, count n: Int, thresholds: UnsafePointer<Float>, _ p: Int,
    into counts: UnsafeMutablePointer<Int64>
  ) {
    lfm_count_at_least(row, n, thresholds, p, counts)
  }

  /// The same counts for `p` ascending thresholds without NaN, through a binary search per
  /// entry and a histogram of `p + 1` slots (`histogram`, overwritten): O(n log p) instead of
  /// O(n · p), the better choice for long threshold lists.
  @inline(__always)
  static func countAtLeastSorted(
    _ row: UnsafePointer<Float>, count n: Int, thresholds: UnsafePointer<Float>, _ p: Int,
    histogram: UnsafeMutablePointer<Int64>, into counts: UnsafeMutablePointer<Int64>
  ) {
    lfm_count_at_least_sorted(row, n, thresholds, p, histogram, counts)
  }

  /// The vector width in use: 512 (AVX-512), 256 (AVX2) or 0 (portable C).
  static var width: Int { Int(lfm_kernel_width()) }

  /// Uses at most `width` bits from now on (never more than the CPU has); returns the width
  /// in use before. For tests that check the versions against each other.
  @discardableResult
  static func limitWidth(_ width: Int) -> Int { Int(lfm_limit_kernel_width(Int32(width))) }
}
