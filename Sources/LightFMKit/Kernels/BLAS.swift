import COpenBLAS
import Synchronization

/// The one place swift-lightfm calls C: CBLAS and LAPACKE from OpenBLAS.
///
/// Every size is converted to the BLAS integer type with a checked conversion, and every pointer
/// is a Swift unsafe pointer the caller keeps alive for the call. Callers decide the BLAS thread
/// count explicitly with `BLAS.withThreads(_:_:)`, the only code that changes it.
enum BLAS {
  // MARK: - Threads

  /// The number of threads OpenBLAS uses for one call.
  static var threads: Int { Int(openblas_get_num_threads()) }

  /// The callers inside `withThreads` and the count the first of them found.
  private struct Pin {
    var holders = 0
    var saved = 0
  }

  private static let pin = Mutex(Pin())

  /// Runs `body` with OpenBLAS pinned to `n` threads, and restores the count it found.
  ///
  /// OpenBLAS's thread count is one setting for the whole process, and `LightFM` is `Sendable`:
  /// concurrent calls each saving and restoring it would leave it at whatever one of them
  /// found mid-way (often 1, halving every later BLAS call of the host program). So the pin is
  /// counted: the first caller in saves the count and sets `n`, the last one out restores it.
  /// A caller that arrives while others hold a pin runs at their count (the result does not
  /// depend on it, only the speed). Training workers and parallel scoring workers pin BLAS to
  /// 1 so that the machine's cores are not oversubscribed.
  static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    precondition(n >= 1, "BLAS thread count must be at least 1")
    pin.withLock { pin in
      if pin.holders == 0 {
        pin.saved = threads
        openblas_set_num_threads(Int32(clamping: n))
      }
      pin.holders += 1
    }
    defer {
      pin.withLock { pin in
        pin.holders -= 1
        if pin.holders == 0 { openblas_set_num_threads(Int32(clamping: pin.saved)) }
      }
    }
    return try body()
  }

  @inline(__always)
  static func int(_ n: Int) -> blasint {
    guard let value = blasint(exactly: n) else {
      preconditionFailure("size \(n) does not fit the BLAS integer type")
    }
    return value
  }

  // MARK: - Level 1

  /// Σ x[i]·y[i] over `n` contiguous elements.
  static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(int(n), x, 1, y, 1)
  }

  /// y += alpha·x over `n` contiguous elements.
  static func axpy(
    _ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>
  ) {
    cblas_saxpy(int(n), alpha, x, 1, y, 1)
  }

  // MARK: - Level 3

  /// C = alpha·op(A)·op(B) + beta·C, row-major.
  ///
  /// - Parameters: `m × k` op(A), `k × n` op(B), `m × n` C, with leading dimensions `lda`,
  ///   `ldb`, `ldc` (row strides in elements).
  static func gemm(
    transposeA: Bool, transposeB: Bool,
    m: Int, n: Int, k: Int,
    alpha: Float,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor,
      transposeA ? CblasTrans : CblasNoTrans,
      transposeB ? CblasTrans : CblasNoTrans,
      int(m), int(n), int(k),
      alpha, a, int(lda), b, int(ldb),
      beta, c, int(ldc))
  }

  /// C = alpha·Aᵀ·A + beta·C for a row-major `k × n` A, filling the upper triangle of `n × n` C.
  static func syrkTransposed(
    n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int,
    beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_ssyrk(
      CblasRowMajor, CblasUpper, CblasTrans,
      int(n), int(k), alpha, a, int(lda), beta, c, int(ldc))
  }

  // MARK: - LAPACK

  /// Solves A·x = b for one right-hand side and a symmetric positive-definite `n × n` A stored
  /// densely with its upper triangle filled in row-major order, without any copy.
  ///
  /// The upper triangle of a row-major matrix is, byte for byte, the lower triangle of the same
  /// matrix read column-major, so LAPACK's own (column-major) `sposv` runs on the buffer in place;
  /// LAPACKE's row-major path would allocate and transpose a copy on every call. Used by fold-in,
  /// which solves one small system per user from worker threads.
  ///
  /// - Returns: LAPACK's `info`: 0 on success, > 0 when A is not positive definite. A is
  ///   overwritten by its Cholesky factor and b by x.
  /// - Complexity: O(n³/3).
  static func solveSymmetricPositiveDefinite(
    n: Int, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
  ) -> Int {
    let size = Int32(int(n))
    let info = LAPACKE_sposv_work(
      LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), size, 1, a, size, b, size)
    return Int(info)
  }
}
