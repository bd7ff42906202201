import LightFMKit

extension BenchContext {
  /// `kernels`: dot and axpy at d ∈ {16, 32, 64, 128}, the 16-wide SIMD kernel the trainer uses
  /// vs `cblas_sdot` / `cblas_saxpy`, one thread, on rows that stay in L2 (4096 rows × d).
  ///
  /// Each repetition makes `rows × sweeps` calls; the rates are calls/s and GFLOP/s (2·d flops
  /// per call).
  func runKernels() throws {
    let rows = 4096
    let sweeps = quick ? 16 : 64
    let calls = Double(rows * sweeps)
    try KernelProbes.withBLASThreads(1) {
      for d in [16, 32, 64, 128] {
        let matrix = randomFloats(rows * d, seed: UInt64(d))
        let vector = randomFloats(d, seed: UInt64(d) + 1)
        let rates = [("calls/s", calls), ("GFLOP/s", calls * 2 * Double(d) / 1e9)]
        var sink: Float = 0
        try matrix.withUnsafeBufferPointer { m in
          try vector.withUnsafeBufferPointer { v in
            let a = m.baseAddress!
            let x = v.baseAddress!
            for (label, dot) in [
              ("simd", KernelProbes.simdDot), ("blas", KernelProbes.blasDot),
            ] {
              try harness.measure("kernels", "dot d=\(d) \(label)", rates: rates) {
                var acc: Float = 0
                for _ in 0..<sweeps {
                  for r in 0..<rows { acc += dot(a + r * d, x, d) }
                }
                sink += acc
              }
            }
          }
        }
        var target = [Float](repeating: 0, count: d)
        try matrix.withUnsafeBufferPointer { m in
          try target.withUnsafeMutableBufferPointer { t in
            let a = m.baseAddress!
            let y = t.baseAddress!
            for (label, axpy) in [
              ("simd", KernelProbes.simdAxpy), ("blas", KernelProbes.blasAxpy),
            ] {
              try harness.measure("kernels", "axpy d=\(d) \(label)", rates: rates) {
                for _ in 0..<sweeps {
                  for r in 0..<rows { axpy(1e-4, a + r * d, y, d) }
                }
              }
            }
          }
        }
        sink += target.reduce(0, +)
        // Keeps the optimiser from discarding the loops.
        if sink.isNaN { Report.progress("kernels: NaN checksum at d=\(d)") }
      }
    }
  }
}
