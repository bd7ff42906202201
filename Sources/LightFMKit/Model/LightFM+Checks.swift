// MARK: - The checks every entry point shares

// Each mistake a caller can make with a fitted model (no fit yet, a feature matrix of the wrong
// width, an index outside the rows) is checked here and nowhere else, so `predict`,
// `recommend`, `similarUsers`, `predictRank`, the cold-start calls, `foldIn` and `fitPartial`
// all throw the same `LightFMError` for it.

extension LightFMError {
  /// The error for any use of a model that has no parameters yet.
  static let notFitted = LightFMError(
    .notFitted, "the model is not fitted: call fit (or fitPartial) first")
}

extension LightFM {
  /// The fitted parameters, or `LightFMError.notFitted`.
  func fittedParameters() throws -> ModelParameters {
    guard let parameters else { throw LightFMError.notFitted }
    return parameters
  }

  /// Checks that a user or item feature matrix has one column per model feature and only
  /// finite values.
  ///
  /// - Parameters:
  ///   - side: which side the matrix describes, for the message.
  ///   - features: the model's feature count on that side.
  /// - Complexity: O(nnz(matrix)).
  static func checkFeatureMatrix(_ matrix: CSRMatrix, side: Side, features: Int) throws {
    guard matrix.shape.columns == features else {
      let kind = side == .user ? "User" : "Item"
      throw LightFMError.invalidData(
        "the \(side) feature matrix has \(matrix.shape.columns) columns but the model has "
          + "\(features) \(side) features: expected \(features) columns, one per model feature "
          + "(build it with Dataset.build\(kind)Features, or coldStart\(kind)Features for new "
          + "\(side.plural), on the dataset the model was fitted with; or grow the model)")
    }
    try checkFinite(matrix.values, what: "\(side) feature")
  }

  /// Checks a users × items interaction matrix (test, train or excluded items): one column per
  /// item, and at most one row per user (users past its last row have no entries).
  ///
  /// - Parameter name: the matrix, for the message ("the test-interaction matrix").
  static func checkInteractionMatrix(
    _ matrix: CSRMatrix, _ name: String, users: Int, items: Int
  ) throws {
    guard matrix.shape.columns == items else {
      throw LightFMError.invalidData(
        "\(name) has \(matrix.shape.columns) columns: expected one per item (\(items))")
    }
    guard matrix.shape.rows <= users else {
      throw LightFMError.invalidData(
        "\(name) has \(matrix.shape.rows) rows, more than the \(users) users")
    }
  }

  /// Checks a requested list length (`count` of `recommend` and `similarItems`/`similarUsers`).
  static func checkListLength(_ count: Int) throws {
    if count < 1 { throw LightFMError.invalidParameter("count", count, expected: "at least 1") }
  }

  /// Checks that every index in `indices` is a row `0..<rows` of one side: a trained user or
  /// item, or a row of the feature matrix that describes them.
  ///
  /// - Complexity: O(indices.count).
  static func checkIndices(_ indices: [Int], side: Side, rows: Int) throws {
    guard let n = indices.firstIndex(where: { $0 < 0 || $0 >= rows }) else { return }
    throw LightFMError(
      .unknownID,
      "\(side) index \(indices[n]) at position \(n) is outside 0..<\(rows): expected a \(side) "
        + "the model was trained on or a row of the \(side) feature matrix")
  }
}
