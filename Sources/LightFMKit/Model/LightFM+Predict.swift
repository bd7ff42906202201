// MARK: - predict

extension LightFM {
  /// Scores (user, item) pairs, as LightFM's `predict`:
  ///
  /// ```
  /// s(u, i) = b_u + b_i + p_u · q_i,   p_u = Σ_f x_uf E^U_f,   q_i = Σ_f y_if E^I_f
  /// ```
  ///
  /// Representations are built from the feature rows of `userFeatures` and `itemFeatures`
  /// (identity when `nil`), so a user or item known only through its features (a new row, cold
  /// start) is scored from them. The feature arguments come in the same order as in `fit`
  /// (LightFM's `predict` swaps them).
  ///
  /// - Parameters:
  ///   - userIds: row indices into `userFeatures` (or trained users without it).
  ///   - itemIds: row indices into `itemFeatures` (or trained items without it), as many as
  ///     `userIds`; pair n is (`userIds[n]`, `itemIds[n]`).
  ///   - userFeatures: `users × userFeatureCount`; `nil` means identity features.
  ///   - itemFeatures: `items × itemFeatureCount`; `nil` means identity features.
  /// - Returns: one score per pair.
  /// - Throws: `LightFMError` when the model is not fitted, the lists differ in length, an index
  ///   is outside the rows, or a feature matrix has more columns than the model or a non-finite
  ///   value.
  /// - Complexity: O(pairs · f · d) for f features per row (identity rows cost O(d)).
  public func predict(
    userIds: [Int], itemIds: [Int],
    userFeatures: CSRMatrix? = nil, itemFeatures: CSRMatrix? = nil
  ) throws -> [Float] {
    guard userIds.count == itemIds.count else {
      throw LightFMError.invalidParameter(
        "itemIds", "(\(itemIds.count) ids)",
        expected: "as many ids as userIds (\(userIds.count))")
    }
    let scorer = try PairScorer(self, userFeatures: userFeatures, itemFeatures: itemFeatures)
    try scorer.checkUsers(userIds)
    try scorer.checkItems(itemIds)
    return scorer.score(userIds: userIds, itemIds: itemIds)
  }

  /// Scores one user against `items` (see `predict(userIds:itemIds:userFeatures:itemFeatures:)`).
  ///
  /// - Complexity: O(f·d) for the user plus O(items · f · d).
  public func predict(
    user: Int, items: [Int],
    userFeatures: CSRMatrix? = nil, itemFeatures: CSRMatrix? = nil
  ) throws -> [Float] {
    let scorer = try PairScorer(self, userFeatures: userFeatures, itemFeatures: itemFeatures)
    try scorer.checkUsers([user])
    try scorer.checkItems(items)
    return scorer.score(userIds: [Int](repeating: user, count: items.count), itemIds: items)
  }
}

// MARK: - Pair scoring

/// Scores pairs one at a time from feature rows and parameters (LightFM's `predict` path).
///
/// Whole-catalog scoring goes through the blocked GEMM scorer instead; this path is for pairs.
struct PairScorer {
  let parameters: ModelParameters
  let userRows: CSRMatrix?
  let itemRows: CSRMatrix?

  init(_ model: LightFM, userFeatures: CSRMatrix?, itemFeatures: CSRMatrix?) throws {
    let p = try model.fittedParameters()
    parameters = p
    if let userFeatures {
      try LightFM.checkFeatureMatrix(userFeatures, side: .user, features: p.userFeatureCount)
    }
    if let itemFeatures {
      try LightFM.checkFeatureMatrix(itemFeatures, side: .item, features: p.itemFeatureCount)
    }
    userRows = userFeatures
    itemRows = itemFeatures
  }

  func checkUsers(_ ids: [Int]) throws {
    try LightFM.checkIndices(
      ids, side: .user, rows: userRows?.shape.rows ?? parameters.userFeatureCount)
  }

  func checkItems(_ ids: [Int]) throws {
    try LightFM.checkIndices(
      ids, side: .item, rows: itemRows?.shape.rows ?? parameters.itemFeatureCount)
  }

  /// The scores of validated pairs.
  func score(userIds: [Int], itemIds: [Int]) -> [Float] {
    let d = parameters.noComponents
    var out = [Float](repeating: 0, count: userIds.count)
    var user = [Float](repeating: 0, count: d)
    var item = [Float](repeating: 0, count: d)
    var lastUser = -1
    var userBias: Float = 0
    for n in 0..<userIds.count {
      if userIds[n] != lastUser {
        lastUser = userIds[n]
        userBias = Self.representation(
          userRows, row: lastUser, embeddings: parameters.users.embeddings,
          biases: parameters.users.biases, d: d, into: &user)
      }
      let itemBias = Self.representation(
        itemRows, row: itemIds[n], embeddings: parameters.items.embeddings,
        biases: parameters.items.biases, d: d, into: &item)
      out[n] = user.withUnsafeBufferPointer { u in
        item.withUnsafeBufferPointer { i in
          userBias + itemBias + Vector.dot(u.baseAddress!, i.baseAddress!, d)
        }
      }
    }
    return out
  }

  /// Writes p = Σ_f x_f E_f into `out` and returns b = Σ_f x_f β_f (identity when `rows` is nil).
  private static func representation(
    _ rows: CSRMatrix?, row: Int, embeddings: [Float], biases: [Float], d: Int,
    into out: inout [Float]
  ) -> Float {
    out.withUnsafeMutableBufferPointer { o in
      embeddings.withUnsafeBufferPointer { e in
        let target = o.baseAddress!
        guard let rows else {
          target.update(from: e.baseAddress! + row * d, count: d)
          return biases[row]
        }
        target.update(repeating: 0, count: d)
        return rows.columnIndices.withUnsafeBufferPointer { columns in
          rows.values.withUnsafeBufferPointer { values in
            biases.withUnsafeBufferPointer { b in
              Representations.accumulate(
                rows.rowPointers[row]..<rows.rowPointers[row + 1],
                columns: columns, values: values, embeddings: e, biases: b, d: d, into: target)
            }
          }
        }
      }
    }
  }
}
