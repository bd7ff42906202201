// MARK: - Cosine similarity between representations

extension LightFM {
  /// The `count` items most similar to `item`, by cosine similarity of item embeddings.
  ///
  /// ```
  /// sim(i, j) = q_i · q_j / (‖q_i‖ ‖q_j‖)      (0 when either vector is zero)
  /// ```
  ///
  /// Biases are not part of the similarity. The item itself is never in its list.
  ///
  /// - Parameters:
  ///   - item: an item row (of `itemFeatures`, or of the model's items).
  ///   - k: the list length (the `count:` argument), at least 1.
  ///   - itemFeatures: `items × itemFeatureCount`; `nil` means identity features.
  /// - Returns: best first; ties go to the lower item index.
  /// - Throws: `LightFMError` for an unfitted model, a bad feature matrix or index, or
  ///   `count < 1`.
  /// - Complexity: O(I · d).
  public func similarItems(
    to item: Int, count k: Int = 10, itemFeatures: CSRMatrix? = nil
  ) throws -> [ScoredIndex] {
    Array(try similarItems(to: [item], count: k, itemFeatures: itemFeatures, numThreads: 1)[0])
  }

  /// The `count` most similar items of each item in `items`, through blocked GEMM over the
  /// normalised embeddings.
  ///
  /// - Complexity: O(|items| · I · d).
  public func similarItems(
    to items: [Int], count k: Int = 10, itemFeatures: CSRMatrix? = nil, numThreads: Int? = nil,
    engine: ScoringEngine = .blas
  ) throws -> Recommendations {
    let reps = try itemRepresentationMatrix(itemFeatures)
    return try Self.similar(
      reps, to: items, k: k, side: .item, numThreads: numThreads, engine: engine)
  }

  /// The `count` users most similar to `user`, by cosine similarity of user embeddings.
  ///
  /// ```
  /// sim(u, v) = p_u · p_v / (‖p_u‖ ‖p_v‖)      (0 when either vector is zero)
  /// ```
  ///
  /// - Throws: `LightFMError` for an unfitted model, a bad feature matrix or index, or
  ///   `count < 1`.
  /// - Complexity: O(U · d).
  public func similarUsers(
    to user: Int, count k: Int = 10, userFeatures: CSRMatrix? = nil
  ) throws -> [ScoredIndex] {
    Array(try similarUsers(to: [user], count: k, userFeatures: userFeatures, numThreads: 1)[0])
  }

  /// The `count` most similar users of each user in `users` (each entry's `index` is a user).
  ///
  /// - Complexity: O(|users| · U · d).
  public func similarUsers(
    to users: [Int], count k: Int = 10, userFeatures: CSRMatrix? = nil, numThreads: Int? = nil,
    engine: ScoringEngine = .blas
  ) throws -> Recommendations {
    let reps = try userRepresentationMatrix(userFeatures)
    return try Self.similar(
      reps, to: users, k: k, side: .user, numThreads: numThreads, engine: engine)
  }

  static func similar(
    _ reps: Representations, to queries: [Int], k: Int, side: Side, numThreads: Int?,
    engine: ScoringEngine
  ) throws -> Recommendations {
    try checkListLength(k)
    let threads = try threadCount(numThreads)
    try checkIndices(queries, side: side, rows: reps.count)
    let unit = reps.normalized()
    var scorer = BlockedScorer(queries: unit, queryRows: queries, items: unit)
    scorer.excludeSelf = true
    scorer.engine = engine
    scorer.threads = threads
    return scorer.topK(k)
  }
}

extension Representations {
  /// Each embedding scaled to unit length (zero rows stay zero), with zero biases.
  ///
  /// - Complexity: O(count · d).
  func normalized() -> Representations {
    let d = dimension
    var out = embeddings
    out.withUnsafeMutableBufferPointer { buffer in
      for r in 0..<count {
        let row = buffer.baseAddress! + r * d
        let norm = SIMDKernels.dot(row, row, d).squareRoot()
        if norm > 0 {
          let scale = 1 / norm
          for j in 0..<d { row[j] *= scale }
        }
      }
    }
    return Representations(
      count: count, dimension: d, embeddings: out,
      biases: [Float](repeating: 0, count: count))
  }
}
