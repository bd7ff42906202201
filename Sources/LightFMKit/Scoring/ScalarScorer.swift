/// The reference way to fill a score tile: one SIMD dot product per (query, item) pair, as
/// LightFM's `predict` does. Kept for the parity tests and the benchmark's honest baseline.
enum ScalarScorer {
  /// `c[r · ldc + j] = a_r · b_j`.
  ///
  /// - Complexity: O(m · n · d).
  static func fillTile(
    a: UnsafePointer<Float>, m: Int, b: UnsafePointer<Float>, n: Int, d: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    for r in 0..<m {
      let ar = a + r * d
      let cr = c + r * ldc
      for j in 0..<n {
        cr[j] = SIMDKernels.dot(ar, b + j * d, d)
      }
    }
  }
}
