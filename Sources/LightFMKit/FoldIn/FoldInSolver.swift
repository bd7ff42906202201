/// Solves for the embeddings of users the model never trained, against frozen item
/// representations, one small Cholesky solve per user.
///
/// Implicit-feedback least squares (Hu, Koren & Volinsky 2008, "Collaborative Filtering for
/// Implicit Feedback Datasets", ICDM): every item is an observation, the user's positives with
/// preference 1 and confidence 1 + α·w, every other item with preference 0 and confidence 1.
/// Setting the gradient of `FoldInOptions`' objective to zero gives, for δ = p − p⁰,
///
/// ```
/// (QᵀQ + λI + Σ_{i∈P} α w_i q_i q_iᵀ) δ
///     = Σ_{i∈P} ((1 + α w_i) − α w_i o_i) q_i − β Qᵀb − QᵀQ p⁰
/// o_i = β b_i + p⁰·q_i        β = 1 with `.subtract`, 0 with `.ignore`
/// ```
///
/// where P is the user's positives. QᵀQ (one `ssyrk`) and Qᵀb are computed once and shared by
/// every user; the per-user part is a rank-|P| update (`ssyrk` on the gathered rows
/// √(α w_i)·q_i) and a `sposv` Cholesky solve.
///
/// - Complexity: O(n·d²) once, then O(|P|·d² + d³) per user.
struct FoldInSolver: Sendable {
  let noComponents: Int
  let itemCount: Int
  /// Q, `itemCount × d`, row-major.
  let itemEmbeddings: [Float]
  /// b, one per item.
  let itemBiases: [Float]
  /// QᵀQ, `d × d`, both triangles filled.
  let gram: [Float]
  /// Qᵀb, `d`.
  let biasProjection: [Float]
  /// tr(QᵀQ)/d, the unit of `FoldInOptions.regularization`.
  let meanEigenvalue: Float

  /// Precomputes QᵀQ and Qᵀb from the item representations.
  ///
  /// - Complexity: O(n·d²), through one `ssyrk`.
  init(itemBiases: [Float], itemEmbeddings: [Float], noComponents d: Int) {
    precondition(d >= 1, "noComponents must be at least 1")
    precondition(itemEmbeddings.count == itemBiases.count * d, "item representations mismatch")
    let n = itemBiases.count
    noComponents = d
    itemCount = n
    self.itemEmbeddings = itemEmbeddings
    self.itemBiases = itemBiases
    var gram = [Float](repeating: 0, count: d * d)
    var projection = [Float](repeating: 0, count: d)
    itemEmbeddings.withUnsafeBufferPointer { q in
      gram.withUnsafeMutableBufferPointer { g in
        if n > 0 {
          BLAS.syrkTransposed(
            n: d, k: n, alpha: 1, a: q.baseAddress!, lda: d, beta: 0, c: g.baseAddress!, ldc: d)
        }
        for r in 0..<d {
          for c in 0..<r { g[r * d + c] = g[c * d + r] }
        }
      }
      projection.withUnsafeMutableBufferPointer { h in
        for i in 0..<n {
          SIMDKernels.axpy(itemBiases[i], q.baseAddress! + i * d, h.baseAddress!, d)
        }
      }
    }
    var trace: Float = 0
    for r in 0..<d { trace += gram[r * d + r] }
    self.gram = gram
    biasProjection = projection
    // An all-zero catalog still gets a positive-definite system.
    meanEigenvalue = trace > 0 ? trace / Float(d) : 1
  }

  /// A user whose system could not be solved.
  struct Failure: Error {
    let user: Int
    let info: Int
  }

  /// The embeddings of the users in the rows of `interactions`, `rows × d`, row-major.
  ///
  /// - Parameters:
  ///   - interactions: one row per new user, one column per item; entries with a value > 0 are
  ///     the user's positives, the value scaling its confidence. Other entries are ignored.
  ///   - prior: p⁰ per user, `rows × d` (their feature-only representations), or `nil` for zero.
  ///     A user without positives gets p⁰ unchanged; the others are regularised toward it only
  ///     with `options.featurePrior`.
  ///   - targetNorm: when given, each solved p is rescaled to this length (`FoldInScale`).
  /// - Throws: `Failure` for the first user whose system LAPACK found not positive definite
  ///   (non-finite item representations).
  /// - Complexity: O(Σ_u |P_u|·d² + rows·d³), split over `options.numThreads` threads.
  func solve(
    interactions: CSRMatrix, prior: [Float]?, options: FoldInOptions, targetNorm: Float? = nil
  ) throws -> [Float] {
    let d = noComponents
    let users = interactions.shape.rows
    precondition(interactions.shape.columns == itemCount, "interactions need one column per item")
    precondition(prior == nil || prior!.count == users * d, "prior must be rows × d")
    var out = prior ?? [Float](repeating: 0, count: users * d)
    guard users > 0 else { return out }
    let longest = (0..<users).reduce(0) { max($0, interactions.rowCount($1)) }
    let blockSize = 32
    let blocks = (users + blockSize - 1) / blockSize
    // The first failure of each block: users in order, whichever worker solved them.
    var failures = [Int](repeating: -1, count: 2 * blocks)
    let centred = prior != nil && options.featurePrior
    out.withUnsafeMutableBufferPointer { outBuffer in
      failures.withUnsafeMutableBufferPointer { failBuffer in
        let output = SharedMutablePointer(outBuffer)!
        let failed = SharedMutablePointer(failBuffer)!
        Parallel.blocks(
          blocks, threads: options.numThreads,
          scratch: { Scratch(d: d, longest: longest, arena: $0) }
        ) { block, scratch in
          let lo = block * blockSize
          for u in lo..<min(users, lo + blockSize) {
            let info = solveUser(
              u, interactions: interactions, centred: centred, options: options,
              targetNorm: targetNorm, scratch: scratch, output: output.base + u * d)
            if info != 0 && failed.base[2 * block] < 0 {
              failed.base[2 * block] = u
              failed.base[2 * block + 1] = info
            }
          }
        }
      }
    }
    for b in 0..<blocks where failures[2 * b] >= 0 {
      throw Failure(user: failures[2 * b], info: failures[2 * b + 1])
    }
    return out
  }

  /// One worker's buffers, from its arena: the system matrix, and the gathered rows
  /// √(α w_i)·q_i of one user.
  private struct Scratch {
    let system: UnsafeMutablePointer<Float>
    let gathered: UnsafeMutablePointer<Float>
    let rhs: UnsafeMutablePointer<Float>

    init(d: Int, longest: Int, arena: ScratchArena) {
      system = arena.allocate(Float.self, count: d * d)
      gathered = arena.allocate(Float.self, count: max(1, longest) * d)
      rhs = arena.allocate(Float.self, count: d)
    }
  }

  /// Solves one user's system; `output` holds p⁰ (or 0) on entry and p on return. With
  /// `centred`, the solve is regularised toward p⁰; otherwise toward 0, and p⁰ stays only for a
  /// user without positives.
  ///
  /// - Returns: LAPACK's `info` (0 on success). The user's row is left at p⁰ on failure.
  private func solveUser(
    _ u: Int, interactions: CSRMatrix, centred hasPrior: Bool, options: FoldInOptions,
    targetNorm: Float?, scratch: Scratch, output: UnsafeMutablePointer<Float>
  ) -> Int {
    let d = noComponents
    let start = interactions.rowPointers[u]
    let end = interactions.rowPointers[u + 1]
    let beta: Float = options.itemBiases == .subtract ? 1 : 0
    let alpha = options.confidence
    return interactions.columnIndices.withUnsafeBufferPointer { columns in
      interactions.values.withUnsafeBufferPointer { values in
        itemEmbeddings.withUnsafeBufferPointer { qBuffer in
          gram.withUnsafeBufferPointer { gBuffer in
            let q = qBuffer.baseAddress!
            let g = gBuffer.baseAddress!
            let a = scratch.system
            let x = scratch.gathered
            let rhs = scratch.rhs
            // rhs = −β Qᵀb − QᵀQ p⁰
            for r in 0..<d {
              var value = -beta * biasProjection[r]
              if hasPrior { value -= SIMDKernels.dot(g + r * d, output, d) }
              rhs[r] = value
            }
            var positives = 0
            for n in start..<end {
              let w = values[n]
              guard w > 0 else { continue }
              let i = Int(columns[n])
              let qi = q + i * d
              let extra = alpha * w
              var offset = beta * itemBiases[i]
              if hasPrior { offset += SIMDKernels.dot(output, qi, d) }
              SIMDKernels.axpy((1 + extra) - extra * offset, qi, rhs, d)
              let scale = extra.squareRoot()
              let row = x + positives * d
              for c in 0..<d { row[c] = scale * qi[c] }
              positives += 1
            }
            guard positives > 0 else { return 0 }
            let lambda = options.regularization * meanEigenvalue
            a.update(from: g, count: d * d)
            for r in 0..<d { a[r * d + r] += lambda }
            BLAS.syrkTransposed(n: d, k: positives, alpha: 1, a: x, lda: d, beta: 1, c: a, ldc: d)
            let info = BLAS.solveSymmetricPositiveDefinite(n: d, a: a, b: rhs)
            guard info == 0 else { return info }
            if hasPrior {
              for c in 0..<d { output[c] += rhs[c] }
            } else {
              output.update(from: rhs, count: d)
            }
            if let targetNorm {
              let norm = SIMDKernels.dot(output, output, d).squareRoot()
              if norm > 0 && norm.isFinite {
                let factor = targetNorm / norm
                for c in 0..<d { output[c] *= factor }
              }
            }
            return 0
          }
        }
      }
    }
  }
}
