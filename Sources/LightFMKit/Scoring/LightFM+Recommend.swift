// MARK: - Recommending

extension LightFM {
  /// The `count` best items for each requested user, scored through blocked GEMM.
  ///
  /// ```
  /// s(u, i) = b_u + b_i + p_u · q_i
  /// ```
  ///
  /// Users × items are scored tile by tile (256 users × 1024 items per single-threaded
  /// `cblas_sgemm` of `[p_u | 1]` against `[q_i | b_i]`), each worker thread owning its tile;
  /// known items are masked in the tile and each row's running top-k is updated straight from
  /// it. The users × items matrix is never
  /// allocated.
  ///
  /// - Parameters:
  ///   - users: user rows to recommend for (indices into `userFeatures`, or the model's users);
  ///     `nil` means all of them.
  ///   - k: the list length (the `count:` argument). A user with fewer items left gets them all; a
  ///     user who knows every item gets an empty list.
  ///   - excluding: items to leave out per user, such as the training interactions (every stored
  ///     entry counts, whatever its value). Must have one column per item; it may have fewer
  ///     rows than there are users (missing rows exclude nothing).
  ///   - candidates: score only these items (any order, repeats ignored); `nil` means all.
  ///   - userFeatures: `users × userFeatureCount`; `nil` means identity features.
  ///   - itemFeatures: `items × itemFeatureCount`; `nil` means identity features.
  ///   - popularity: leave out the item biases or penalise popular items (see
  ///     `PopularityControl`); the default scores as the model does. It replaces the item bias
  ///     column of the GEMM, and the reported scores are the adjusted ones.
  ///   - numThreads: worker threads (default: the active cores).
  ///   - engine: `.blas` (default) or the `.scalar` reference path.
  /// - Returns: one list per requested user, in the order of `users`, best first; ties go to the
  ///   lower item index.
  /// - Throws: `LightFMError` for an unfitted model, mismatched feature matrices, an index out
  ///   of range, a `count` below 1, a thread count below 1, or a popularity control that does
  ///   not fit the catalog; `CancellationError` when the task running the call is cancelled
  ///   (inside a task, users are scored in chunks of a few thousand, and cancellation is
  ///   checked between them).
  /// - Complexity: O(U · I · d) arithmetic; O(threads · tile + U · k) memory.
  public func recommend(
    users: [Int]? = nil,
    count k: Int = 10,
    excluding: CSRMatrix? = nil,
    candidates: [Int]? = nil,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    popularity: PopularityControl = .none,
    numThreads: Int? = nil,
    engine: ScoringEngine = .blas
  ) throws -> Recommendations {
    try Self.checkListLength(k)
    let threads = try Self.threadCount(numThreads)
    let userReps = try userRepresentationMatrix(userFeatures)
    let itemReps = try itemRepresentationMatrix(itemFeatures)
    if let users { try Self.checkIndices(users, side: .user, rows: userReps.count) }
    if let excluding {
      try Self.checkExclusion(excluding, users: userReps.count, items: itemReps.count)
    }
    try popularity.check(items: itemReps.count)
    var scorer = BlockedScorer(
      queries: userReps, queryRows: users, items: itemReps,
      itemBiases: popularity.biasColumn(itemReps.biases), exclusion: excluding)
    if let candidates {
      try scorer.restrict(to: candidates)
    }
    scorer.engine = engine
    scorer.threads = threads
    return try scorer.topKStoppingOnCancellation(k)
  }

  // MARK: - Checks shared by the scoring entry points

  static func threadCount(_ numThreads: Int?) throws -> Int {
    guard let numThreads else { return ScoringTiles.defaultThreads }
    if numThreads < 1 {
      throw LightFMError.invalidParameter("numThreads", numThreads, expected: "at least 1")
    }
    return numThreads
  }

  static func checkExclusion(_ excluding: CSRMatrix, users: Int, items: Int) throws {
    try checkInteractionMatrix(
      excluding, "the excluded-item matrix", users: users, items: items)
  }
}

extension BlockedScorer {
  /// `topK(k)`; inside a task, the queries are scored in chunks (16 blocks per thread) with a
  /// cancellation check before each, so a cancelled task stops within one chunk.
  ///
  /// - Throws: `CancellationError` when the current task is cancelled.
  func topKStoppingOnCancellation(_ k: Int) throws -> Recommendations {
    try Task.checkCancellation()
    let rows = queryRows ?? Array(0..<queries.count)
    let chunk = 16 * max(1, threads) * userBlock
    guard rows.count > chunk, withUnsafeCurrentTask(body: { $0 != nil }) else { return topK(k) }
    var scorer = self
    var parts: [Recommendations] = []
    for start in stride(from: 0, to: rows.count, by: chunk) {
      try Task.checkCancellation()
      scorer.queryRows = Array(rows[start..<min(start + chunk, rows.count)])
      parts.append(scorer.topK(k))
    }
    return Recommendations(
      queries: rows, k: parts[0].maxCount, storage: parts.flatMap(\.storage),
      counts: parts.flatMap(\.counts))
  }

  /// Restricts the items to `candidates`: their rows are gathered once into a packed matrix,
  /// in increasing item order (so ties still go to the lower item index).
  ///
  /// - Throws: `LightFMError` for an item index out of range.
  mutating func restrict(to candidates: [Int]) throws {
    let total = items.count
    try LightFM.checkIndices(candidates, side: .item, rows: total)
    var seen = [Bool](repeating: false, count: total)
    for i in candidates { seen[i] = true }
    let d = items.dimension
    var map: [Int32] = []
    var position = [Int32](repeating: -1, count: total)
    var embeddings: [Float] = []
    var biases: [Float] = []
    var column: [Float]? = itemBiases.map { _ in [] }
    map.reserveCapacity(candidates.count)
    embeddings.reserveCapacity(candidates.count * d)
    for i in 0..<total where seen[i] {
      position[i] = Int32(map.count)
      map.append(Int32(i))
      embeddings.append(contentsOf: items.embeddings[(i * d)..<((i + 1) * d)])
      biases.append(items.biases[i])
      if let own = itemBiases { column?.append(own[i]) }
    }
    items = Representations(
      count: map.count, dimension: d, embeddings: embeddings, biases: biases)
    itemBiases = column
    itemMap = map
    packedIndex = position
  }
}
