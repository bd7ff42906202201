import COpenBLAS

/// The one place swift-lightfm calls C: CBLAS and LAPACKE from OpenBLAS.
///
/// Every size is converted to the BLAS integer type with a checked conversion, and every pointer
/// is a Swift unsafe pointer the caller keeps alive for the call. Callers decide the BLAS thread
/// count explicitly with `BLAS.withThreads(_:_:)`.
enum BLAS {
  // MARK: - Threads

  /// The number of threads OpenBLAS uses for one call.
  static var threads: Int { Int(openblas_get_num_threads()) }

  /// Sets the OpenBLAS thread count for the whole process.
  static func setThreads(_ n: Int) {
    precondition(n >= 1, "BLAS thread count must be at least 1")
    openblas_set_num_threads(Int32(clamping: n))
  }

  /// Runs `body` with OpenBLAS pinned to `n` threads, then restores the previous count.
  ///
  /// Training workers and parallel scoring workers pin BLAS to 1 so that the machine's cores are
  /// not oversubscribed.
  static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    let previous = threads
    setThreads(n)
    defer { setThreads(previous) }
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

  /// Solves A·X = B for a symmetric positive-definite row-major `n × n` A (upper triangle read)
  /// and `n × nrhs` B, overwriting B with X and A with its Cholesky factor.
  ///
  /// - Returns: LAPACK's `info`: 0 on success, > 0 when A is not positive definite.
  static func solvePositiveDefinite(
    n: Int, nrhs: Int,
    a: UnsafeMutablePointer<Float>, lda: Int,
    b: UnsafeMutablePointer<Float>, ldb: Int
  ) -> Int {
    let info = LAPACKE_sposv(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")),
      Int32(int(n)), Int32(int(nrhs)), a, Int32(int(lda)), b, Int32(int(ldb)))
    return Int(info)
  }

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

  /// Cholesky factor of a symmetric positive-definite row-major `n × n` A, in place (upper).
  ///
  /// - Returns: LAPACK's `info`.
  static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Float>, lda: Int) -> Int {
    Int(LAPACKE_spotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(int(n)), a, Int32(int(lda))))
  }

  /// Solves with a factor from `choleskyFactor`, overwriting the `n × nrhs` B.
  ///
  /// - Returns: LAPACK's `info`.
  static func choleskySolve(
    n: Int, nrhs: Int,
    factor: UnsafePointer<Float>, lda: Int,
    b: UnsafeMutablePointer<Float>, ldb: Int
  ) -> Int {
    Int(
      LAPACKE_spotrs(
        LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(int(n)), Int32(int(nrhs)),
        factor, Int32(int(lda)), b, Int32(int(ldb))))
  }
}
