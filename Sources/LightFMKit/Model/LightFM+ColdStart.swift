// MARK: - Cold start from features: users and items that were never fitted

extension LightFM {
  /// The top `count` items for users the model has never seen, from their features alone.
  ///
  /// ```
  /// p_new = Σ_f x_f E^U_f     b_new = Σ_f x_f β^U_f      (Kula 2015)
  /// ```
  ///
  /// Nothing is retrained: the new users' representations are the sums of their trained feature
  /// embeddings, then scored against the catalog by the blocked GEMM engine (`recommend`). Build
  /// `features` with `Dataset.coldStartUserFeatures`, which leaves out the identity features
  /// that such users do not have. This is the hybrid model's answer to cold start, and works as
  /// well as the user features describe taste; see README, "New users and items".
  ///
  /// - Parameters:
  ///   - features: `newUsers × userFeatureCount`.
  ///   - k: the list length (the `count:` argument).
  ///   - itemFeatures: the catalog's item features as in `fit`; `nil` means identity features.
  ///   - candidates: score only these items; `nil` means all.
  ///   - numThreads: worker threads (default: the active cores).
  /// - Returns: one list per row of `features`, best first.
  /// - Throws: `LightFMError` for an unfitted model or matrices that do not fit it.
  /// - Complexity: O(newUsers · items · d), as `recommend`.
  public func recommendForNewUsers(
    features: CSRMatrix,
    count k: Int = 10,
    itemFeatures: CSRMatrix? = nil,
    candidates: [Int]? = nil,
    numThreads: Int? = nil
  ) throws -> Recommendations {
    try Self.checkFeatureMatrix(
      features, side: .user, features: try fittedParameters().userFeatureCount)
    return try recommend(
      count: k, candidates: candidates, userFeatures: features, itemFeatures: itemFeatures,
      numThreads: numThreads)
  }

  /// Where items the model has never seen would rank for existing users, from the new items'
  /// features alone: for each new item j and user u, the number of catalog items the user has
  /// not interacted with that score at least as high (0: it would be the user's first pick).
  ///
  /// ```
  /// q_j = Σ_f y_jf E^I_f     b_j = Σ_f y_jf β^I_f
  /// rank(u, j) = #{ i ∈ catalog, i ∉ excluding(u) : s(u, i) ≥ s(u, j) }
  /// ```
  ///
  /// Each new item is ranked against the catalog alone (not against the other new items), by
  /// `predictRank` on the catalog with the item's feature row appended.
  ///
  /// - Parameters:
  ///   - features: `newItems × itemFeatureCount`, e.g. `Dataset.coldStartItemFeatures`.
  ///   - users: the users to rank for (rows of `userFeatures` or the model's users); `nil`
  ///     means all of them.
  ///   - excluding: `users × catalog items`, such as the training interactions; every stored
  ///     entry is left out of the count. It may have fewer rows than there are users.
  ///   - userFeatures: as in `fit`; `nil` means identity features.
  ///   - itemFeatures: the catalog's item features as in `fit`; `nil` means identity features.
  ///   - numThreads: worker threads (default: the active cores).
  /// - Returns: one array per new item, holding one rank per user of `users`, in order.
  /// - Throws: `LightFMError` for an unfitted model, matrices that do not fit it, or a user
  ///   index out of range.
  /// - Complexity: O(newItems · users · items · d): one whole-catalog ranking per new item.
  public func newItemRanks(
    features: CSRMatrix,
    users: [Int]? = nil,
    excluding: CSRMatrix? = nil,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    numThreads: Int? = nil
  ) throws -> [[Int]] {
    let p = try fittedParameters()
    let itemFeatureCount = p.itemFeatureCount
    try Self.checkFeatureMatrix(features, side: .item, features: itemFeatureCount)
    if let itemFeatures {
      try Self.checkFeatureMatrix(itemFeatures, side: .item, features: itemFeatureCount)
    }
    if let userFeatures {
      try Self.checkFeatureMatrix(userFeatures, side: .user, features: p.userFeatureCount)
    }
    let userCount = userFeatures?.shape.rows ?? p.userFeatureCount
    let catalog = itemFeatures ?? CSRMatrix.identity(itemFeatureCount)
    let items = catalog.shape.rows
    let rows = users ?? Array(0..<userCount)
    try Self.checkIndices(rows, side: .user, rows: userCount)
    if let excluding {
      try Self.checkExclusion(excluding, users: userCount, items: items)
    }
    // The test matrix: one entry (u, newItem) per requested user, the new item in column `items`.
    let ordered = Array(Set(rows)).sorted()
    var pointers = [Int](repeating: 0, count: userCount + 1)
    for u in ordered { pointers[u + 1] = 1 }
    for u in 0..<userCount { pointers[u + 1] += pointers[u] }
    let test = CSRMatrix(
      uncheckedShape: MatrixShape(rows: userCount, columns: items + 1), rowPointers: pointers,
      columnIndices: [Int32](repeating: Int32(items), count: ordered.count),
      values: [Float](repeating: 1, count: ordered.count))
    // The exclusions as the test's shape: the new item's column, and empty rows for the users
    // past the last row of `excluding`.
    let train = excluding.map { $0.enlarged(rows: userCount, columns: items + 1) }
    var out: [[Int]] = []
    out.reserveCapacity(features.shape.rows)
    for j in 0..<features.shape.rows {
      let extended = catalog.appendingRows(features.selectingRows([j]))
      let ranks = try predictRank(
        test, trainInteractions: train, userFeatures: userFeatures, itemFeatures: extended,
        numThreads: numThreads, checkIntersections: false)
      out.append(rows.map { Int(ranks.values[ranks.rowPointers[$0]]) })
    }
    return out
  }

}

// MARK: - Matrix helpers

extension CSRMatrix {
  /// The same entries in a matrix with at least as many rows and columns (new rows empty).
  func enlarged(rows: Int, columns: Int) -> CSRMatrix {
    precondition(rows >= shape.rows && columns >= shape.columns)
    return CSRMatrix(
      uncheckedShape: MatrixShape(rows: rows, columns: columns),
      rowPointers: rowPointers + repeatElement(nnz, count: rows - shape.rows),
      columnIndices: columnIndices, values: values)
  }

  /// This matrix with the rows of `other` (same column count) below it.
  func appendingRows(_ other: CSRMatrix) -> CSRMatrix {
    precondition(other.shape.columns == shape.columns)
    let offset = nnz
    return CSRMatrix(
      uncheckedShape: MatrixShape(rows: shape.rows + other.shape.rows, columns: shape.columns),
      rowPointers: rowPointers + other.rowPointers.dropFirst().map { $0 + offset },
      columnIndices: columnIndices + other.columnIndices, values: values + other.values)
  }
}
