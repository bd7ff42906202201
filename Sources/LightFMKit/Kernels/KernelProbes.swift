/// The internal kernels, exposed to `lightfm-bench` only (`package` access: not library API).
///
/// Not API: these forward to `SIMDKernels` and `BLAS` so the benchmark can time the scalar and
/// BLAS kernels side by side, and a bare `cblas_sgemm` as the baseline of the blocked scorer.
/// Callers own every length and pointer, as with the kernels themselves.
package enum KernelProbes {
  /// Σ x[i]·y[i], 16-wide SIMD.
  package static func simdDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int)
    -> Float
  {
    SIMDKernels.dot(x, y, n)
  }

  /// Σ x[i]·y[i], `cblas_sdot`.
  package static func blasDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int)
    -> Float
  {
    BLAS.dot(n, x, y)
  }

  /// y += alpha·x, 16-wide SIMD.
  package static func simdAxpy(
    _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    SIMDKernels.axpy(alpha, x, y, n)
  }

  /// y += alpha·x, `cblas_saxpy`.
  package static func blasAxpy(
    _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    BLAS.axpy(n, alpha, x, y)
  }

  /// C = A·Bᵀ with row-major A (`m × k`, stride `lda`), B (`n × k`, stride `ldb`) and C
  /// (`m × n`, stride `ldc`): one `cblas_sgemm`.
  ///
  /// - Complexity: 2·m·n·k floating-point operations.
  package static func sgemmABt(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    BLAS.gemm(
      transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1,
      a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
  }

  /// The bare-GEMM baseline of the blocked scorer: scores every query row against every item
  /// row, tile by tile, into one scratch tile per worker, and does nothing with the scores.
  ///
  /// ```
  /// for each block of `userBlock` queries (workers take the next block as they finish one):
  ///   for each tile of `itemTile` items:  C = Q_block · I_tileᵀ   (single-threaded sgemm)
  /// ```
  ///
  /// - Parameters: `queries` (`queryCount × k`) and `items` (`itemCount × k`), row-major;
  ///   the tile defaults to the blocked scorer's.
  /// - Complexity: 2 · queryCount · itemCount · k floating-point operations.
  package static func blockedSGEMM(
    queries: [Float], queryCount: Int, items: [Float], itemCount: Int, k: Int,
    threads: Int, userBlock: Int? = nil, itemTile: Int? = nil
  ) {
    precondition(queries.count == queryCount * k && items.count == itemCount * k)
    let userBlock = userBlock ?? ScoringTiles.userBlock
    let itemTile = itemTile ?? ScoringTiles.itemTile
    precondition(threads >= 1 && userBlock >= 1 && itemTile >= 1)
    let blocks = (queryCount + userBlock - 1) / userBlock
    queries.withUnsafeBufferPointer { q in
      items.withUnsafeBufferPointer { it in
        guard let qBase = q.baseAddress, let iBase = it.baseAddress else { return }
        // Read-only inputs shared by every worker; each worker writes only its own tile.
        let qShared = SharedMutablePointer(UnsafeMutablePointer(mutating: qBase))
        let iShared = SharedMutablePointer(UnsafeMutablePointer(mutating: iBase))
        Parallel.blocks(
          blocks, threads: threads,
          scratch: { $0.allocate(Float.self, count: userBlock * itemTile) }
        ) { block, tile in
          let u0 = block * userBlock
          let m = min(userBlock, queryCount - u0)
          var i0 = 0
          while i0 < itemCount {
            let n = min(itemTile, itemCount - i0)
            sgemmABt(
              m: m, n: n, k: k, a: qShared.base + u0 * k, lda: k,
              b: iShared.base + i0 * k, ldb: k, c: tile, ldc: n)
            i0 += n
          }
        }
      }
    }
  }

  /// The blocked scorer's tile: users per block × items per GEMM tile.
  package static var scoringTile: (users: Int, items: Int) {
    (ScoringTiles.userBlock, ScoringTiles.itemTile)
  }

  /// The OpenBLAS thread count.
  package static var blasThreads: Int { BLAS.threads }

  /// Runs `body` with OpenBLAS pinned to `n` threads.
  package static func withBLASThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    try BLAS.withThreads(n, body)
  }
}
